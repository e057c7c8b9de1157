// unicode-confusables ships no usable typings (its file is named index.ts.d); the part Chatty uses.
declare module 'unicode-confusables' {
  /** Each code point replaced by its TR39 prototype (confusables.txt). */
  export function rectifyConfusion(input: string): string;
}
