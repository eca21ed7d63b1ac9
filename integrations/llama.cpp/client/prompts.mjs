// The prompts e2e.mjs and load.mjs send: short and varied, so that two accounts never send
// byte-identical requests by accident.
export const prompts = [
  'Write a short story about a lighthouse keeper.',
  'Describe a rainy morning in a small town.',
  'Explain why rivers bend.',
  'List some things you might find in a garden.',
  'Write a letter to a friend about winter.',
  'What makes a good evening walk?',
  'Tell me about the night sky in the north.',
  'Describe a busy market at noon.',
  'Write a poem about green stones.',
  'Why do people keep old letters?',
];
