// markdown-it-emoji ships no types: the one plugin this renderer uses.
declare module 'markdown-it-emoji' {
  import type MarkdownIt from 'markdown-it';
  export const full: MarkdownIt.PluginSimple;
}
