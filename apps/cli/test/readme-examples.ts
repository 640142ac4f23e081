/**
 * The shell commands of the first ```sh block after `heading` in a Markdown text, one entry per
 * command: comments and blank lines dropped, a line ending in `\` or `|` joined with the next (the
 * backslash kept, so the command runs as written).
 */
export function shellCommandsUnder(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n');
  const headingAt = lines.indexOf(heading);
  if (headingAt < 0) throw new Error(`no line "${heading}" in the Markdown text`);
  const start = lines.indexOf('```sh', headingAt);
  const end = lines.indexOf('```', start + 1);
  if (start < 0 || end < 0) throw new Error(`no \`\`\`sh block after "${heading}"`);
  const commands: string[] = [];
  let pending = '';
  for (const line of lines.slice(start + 1, end)) {
    if (pending === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    pending = pending === '' ? line : `${pending}\n${line}`;
    if (!/[\\|]\s*$/.test(line)) {
      commands.push(pending);
      pending = '';
    }
  }
  if (pending !== '') throw new Error(`the \`\`\`sh block after "${heading}" ends inside a command: ${pending}`);
  return commands;
}
