// Files people hand the chat by pasting or dropping them. A pasted screenshot comes as
// "image.png" from every browser: it gets a name that says what and when.

/** Files on the clipboard of a paste (none when text was pasted). */
export function pastedFiles(data: DataTransfer | null): File[] {
  const files = [...(data?.files ?? [])];
  return files.map((file) => (file.name === 'image.png' || file.name === '' ? renamed(file) : file));
}

/** Files dropped (folders and links are not files: none). */
export function droppedFiles(data: DataTransfer | null): File[] {
  return [...(data?.files ?? [])];
}

function renamed(file: File): File {
  const at = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  const extension = file.type.startsWith('image/')
    ? file.type
        .slice('image/'.length)
        .replace('jpeg', 'jpg')
        .replace(/[^a-z0-9]/g, '')
    : 'bin';
  const stamp = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}.${pad(at.getMinutes())}.${pad(at.getSeconds())}`;
  return new File([file], `Pasted ${stamp}.${extension}`, { type: file.type });
}
