/**
 * Built-in secret/PII detectors for the `redact` stage.
 *
 * Every regex has the shape `(kept prefix)(secret)`: the prefix (`Bearer `, `api_key=`) is
 * left in place so a redacted line still says what was there. Regexes start with a
 * lookbehind boundary where they can, so the engine does not rescan every position inside
 * a long token (keeps the scan linear on base64 blobs). Detectors whose regex alone over-
 * matches (card numbers, which need the Luhn check) refine a match with `accept`.
 */
export const DETECTOR_NAMES = ['email', 'creditCard', 'ipv4', 'bearerToken', 'apiKey', 'awsAccessKey', 'awsSecretKey'] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

interface DetectorSpec {
  regex: RegExp;
  /** A substring every match contains; when absent from the text the regex is skipped. */
  hint?: string;
  accept?: (secret: string) => boolean;
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';

const SPECS: Readonly<Record<DetectorName, DetectorSpec>> = {
  awsSecretKey: {
    regex: /(aws[-_]?secret[-_]?access[-_]?key["']?[ \t]*[:=][ \t]*["']?)([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
  },
  awsAccessKey: { regex: /()((?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16})(?![A-Z0-9])/g },
  // Tokens are long; 8+ characters keeps prose like "the bearer of" intact.
  bearerToken: { regex: /(\bBearer[ \t]+)([A-Za-z0-9\-._~+/]{8,}=*)/gi },
  apiKey: {
    regex: /((?:api[-_]?(?:key|token|secret)|access[-_]?token|client[-_]?secret)["']?[ \t]*[:=][ \t]*["']?)([^\s"',;&]+)/gi,
  },
  email: { regex: /()((?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})/g, hint: '@' },
  creditCard: { regex: /()((?<!\d)\d(?:[ -]?\d){12,18})(?!\d)/g, accept: (secret) => luhnValid(secret.replace(/[ -]/g, '')) },
  ipv4: { regex: new RegExp(`()((?<![\\d.])(?:${OCTET}\\.){3}${OCTET})(?!\\.?\\d)`, 'g'), hint: '.' },
};

/**
 * The order detectors run in, whatever order the config lists them: the most specific
 * first, so `aws_secret_access_key=…` is reported as an AWS secret, not a generic key.
 */
const ORDER: readonly DetectorName[] = ['awsSecretKey', 'awsAccessKey', 'bearerToken', 'apiKey', 'email', 'creditCard', 'ipv4'];

export type Redactor = (text: string) => string;

/** A function replacing every match of the named detectors with `replacement(name)`. */
export function detectorRedactors(names: readonly DetectorName[], replacement: (name: DetectorName) => string): Redactor[] {
  const wanted = new Set(names);
  return ORDER.filter((name) => wanted.has(name)).map((name) => compile(SPECS[name], replacement(name)));
}

function compile(spec: DetectorSpec, replacement: string): Redactor {
  const { regex, hint, accept } = spec;
  const replacer = (match: string, prefix: string, secret: string): string =>
    accept === undefined || accept(secret) ? prefix + replacement : match;
  return (text) => (hint !== undefined && !text.includes(hint) ? text : text.replace(regex, replacer));
}

/** Luhn (mod 10) check over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}
