// Node's Buffer has had direct decoders since v0.x (Buffer.prototype.toString calls them after
// argument checks); @types/node does not declare them. The hot path calls them directly.
declare global {
  interface Buffer {
    latin1Slice(start: number, end: number): string;
    utf8Slice(start: number, end: number): string;
    latin1Write(string: string, offset: number, length: number): number;
    utf8Write(string: string, offset: number, length: number): number;
  }
}

export {};
