/**
 * Reads what the Dockerfile's final stage says about the image: entrypoint, command, user,
 * working directory, environment, exposed ports, what it copies into /app and the folders it
 * hands to the unprivileged user. Enough of the Dockerfile syntax for this repository's file
 * (JSON-form ENTRYPOINT/CMD, `\` continuations, ARG defaults); anything else is an error.
 */
export interface DockerfileImage {
  nodeMajor: string;
  entrypoint: string[];
  cmd: string[];
  user: string;
  workdir: string;
  env: Record<string, string>;
  exposed: string[];
  /** destinations under /app of the final stage's COPY instructions, e.g. /app/dist/runtime */
  appCopies: string[];
  /** folders a RUN line creates and chowns, with the owner, e.g. { '/data': '65532:65532' } */
  owned: Record<string, string>;
}

interface Instruction {
  keyword: string;
  args: string;
}

function instructions(text: string): Instruction[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const out: Instruction[] = [];
  for (const raw of joined.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile: cannot read the line '${line}'`);
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim() });
  }
  return out;
}

function jsonArray(keyword: string, args: string): string[] {
  const value: unknown = JSON.parse(args);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`Dockerfile: ${keyword} must be a JSON array of strings, got ${args}`);
  }
  return value;
}

export function parseDockerfile(text: string): DockerfileImage {
  const all = instructions(text);
  const args: Record<string, string> = {};
  for (const i of all) {
    if (i.keyword !== 'ARG') continue;
    const [name, def] = i.args.split('=', 2);
    if (def !== undefined) args[name!] = def;
  }
  const lastFrom = all.map((i) => i.keyword).lastIndexOf('FROM');
  if (lastFrom < 0) throw new Error('Dockerfile: no FROM');
  const image: DockerfileImage = {
    nodeMajor: args['NODE_VERSION'] ?? '',
    entrypoint: [],
    cmd: [],
    user: '',
    workdir: '/',
    env: {},
    exposed: [],
    appCopies: [],
    owned: {},
  };
  for (const i of all.slice(lastFrom + 1)) {
    switch (i.keyword) {
      case 'ENTRYPOINT':
        image.entrypoint = jsonArray(i.keyword, i.args);
        break;
      case 'CMD':
        image.cmd = jsonArray(i.keyword, i.args);
        break;
      case 'USER':
        image.user = i.args;
        break;
      case 'WORKDIR':
        image.workdir = i.args;
        break;
      case 'ENV': {
        const m = /^(\w+)[= ](.*)$/.exec(i.args);
        if (!m) throw new Error(`Dockerfile: cannot read ENV ${i.args}`);
        image.env[m[1]!] = m[2]!;
        break;
      }
      case 'EXPOSE':
        image.exposed.push(...i.args.split(/\s+/).map((p) => (p.includes('/') ? p : `${p}/tcp`)));
        break;
      case 'COPY': {
        const words = i.args.split(/\s+/).filter((w) => !w.startsWith('--'));
        const dest = words[words.length - 1]!;
        image.appCopies.push(dest.startsWith('/') ? dest : `${image.workdir}/${dest.replace(/^\.\//, '')}`);
        break;
      }
      case 'RUN': {
        for (const m of i.args.matchAll(/chown\s+(\d+:\d+)\s+(\S+)/g)) image.owned[m[2]!] = m[1]!;
        break;
      }
      default:
        break;
    }
  }
  image.appCopies = image.appCopies.map((p) => p.replace(/\/+$/, ''));
  return image;
}
