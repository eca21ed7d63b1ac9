// One JSON object per line, each written with a single synchronous write() as soon as it is known, so
// a test that kills the server (or this process) mid-run still reads only complete lines.
import fs from 'node:fs';

export class jsonl_file {
  constructor(path) {
    this.path = path;
    this.fd = fs.openSync(path, 'w');
    this.lines = 0;
  }

  write(record) {
    fs.writeSync(this.fd, JSON.stringify(record) + '\n');
    ++this.lines;
  }

  close() {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

// Stands in when an optional output (--raw) was not asked for.
export const no_file = { write() {}, close() {}, lines: 0 };
