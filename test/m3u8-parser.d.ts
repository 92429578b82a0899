// m3u8-parser ships no type declarations; tests only use Parser.push/end/manifest.
declare module 'm3u8-parser' {
  export class Parser {
    push(chunk: string): void;
    end(): void;
    manifest: any;
    addParser(options: any): void;
  }
}
