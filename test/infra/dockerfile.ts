/** Reads a Dockerfile into stages of instructions: enough to check its structure, not to build it. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}
export interface Stage {
  from: string;
  image: string;
  name?: string;
  instructions: Instruction[];
}
export interface Dockerfile {
  globalArgs: Map<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') startLine = i + 1;
    if (line.startsWith('#')) return; // a comment inside a continued instruction
    pending += ` ${line.endsWith('\\') ? line.slice(0, -1) : line}`;
    if (line.endsWith('\\')) return;
    const [, keyword, args] = /^\s*(\S+)\s*(.*)$/s.exec(pending) as RegExpExecArray;
    instructions.push({ keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, ' ').trim(), line: startLine });
    pending = '';
  });

  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [from, as, name] = ins.args.split(' ');
      const image = from.replace(/\$\{(\w+)\}/g, (_, v: string) => globalArgs.get(v) ?? `\${${v}}`);
      stages.push({ from, image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0 && ins.keyword === 'ARG') {
      const [key, value = ''] = ins.args.split('=');
      globalArgs.set(key, value);
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}
