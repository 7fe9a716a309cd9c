/**
 * A small Dockerfile reader for the deploy tests: instructions with their stage, continuation lines
 * joined, comments dropped, JSON (exec) and shell forms told apart. Enough to check what can be
 * checked without a Docker engine.
 */
export interface Instruction {
  keyword: string;
  /** Text after the keyword, continuation lines joined with a space. */
  args: string;
  /** The exec form's array, when the arguments are a JSON array. */
  exec?: string[];
  /** Index of the FROM this instruction belongs to (-1 before the first FROM). */
  stage: number;
  line: number;
}

export interface Stage {
  base: string;
  name?: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  let stage = -1;
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i];
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      line = line.replace(/\\\s*$/, ' ');
      i++;
      while (i + 1 < lines.length && /^\s*#/.test(lines[i])) i++; // comments inside a continued instruction are dropped
      line += lines[i];
    }
    const match = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(line);
    if (!match) throw new Error(`line ${start + 1}: not an instruction: ${line}`);
    const keyword = match[1].toUpperCase();
    if (keyword === 'FROM') stage++;
    const args = match[2].trim().replace(/\s+/g, ' ');
    let exec: string[] | undefined;
    if (args.startsWith('[')) {
      try {
        exec = JSON.parse(args) as string[];
      } catch {
        exec = undefined;
      }
    }
    instructions.push({ keyword, args, exec, stage, line: start + 1 });
  }
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword !== 'FROM') continue;
    const words = ins.args.split(' ').filter((w) => !w.startsWith('--'));
    stages.push({ base: words[0], name: /^as$/i.test(words[1] ?? '') ? words[2] : undefined, instructions: [] });
  }
  for (const ins of instructions) if (ins.stage >= 0 && ins.keyword !== 'FROM') stages[ins.stage].instructions.push(ins);
  return { args: instructions.filter((ins) => ins.stage < 0), stages };
}

/** `COPY [--from=x] [--chown=..] src... dest` split into its parts. */
export function copyParts(ins: Instruction): { from?: string; sources: string[]; dest: string } {
  const words = ins.exec ?? ins.args.split(' ');
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: paths.slice(0, -1), dest: paths[paths.length - 1] };
}

/** `ENV A=1 B=2` (or the legacy `ENV A 1`) as pairs. */
export function envPairs(ins: Instruction): [string, string][] {
  if (!ins.args.includes('=')) {
    const [name, ...rest] = ins.args.split(' ');
    return [[name, rest.join(' ')]];
  }
  return [...ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)].map((m) => [m[1], m[2].replace(/^"|"$/g, '')]);
}
