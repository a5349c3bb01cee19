/**
 * Just enough of a POSIX shell reader to find the simple commands of a RUN instruction: words (quotes removed,
 * variables of the Dockerfile substituted where known) and the line each command starts on. It does not run or
 * evaluate anything; unknown variables stay `$NAME` and the word is marked unresolved.
 */

const SEPARATORS = ['&&', '||', ';;', ';', '|', '&', '(', ')', '{', '}', '\n'];
/** Words that start a compound command or precede the real command word. */
const PREFIX_WORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', 'time', 'nohup', 'exec', 'sudo', 'xargs']);

/**
 * Splits a shell script into simple commands: `{ words: [{ text, resolved }], offset }` where offset is the index in
 * the script of the command's first word. `env` maps variable names to values; assignments a command makes alone
 * (`uid=999; useradd -u "$uid"`) are added to a copy of it for the commands after.
 */
export function simpleCommands(script, env = {}) {
  const vars = { ...env };
  const commands = [];
  let words = [];
  let start = -1;
  let i = 0;
  const n = script.length;

  const finish = () => {
    if (words.length > 0) {
      // `NAME=value` alone: remember it for the commands after.
      if (words.every((w) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(w.text))) {
        for (const w of words) {
          const eq = w.text.indexOf('=');
          if (w.resolved) vars[w.text.slice(0, eq)] = w.text.slice(eq + 1);
          else delete vars[w.text.slice(0, eq)];
        }
      } else {
        commands.push({ words, offset: start });
      }
    }
    words = [];
    start = -1;
  };

  /** A command substitution in backticks, kept as written (its value is not known): at script[i] === '`'. */
  const readBackticks = () => {
    const close = script.indexOf('`', i + 1);
    const end = close < 0 ? n : close + 1;
    const text = script.slice(i, end);
    i = end;
    return text;
  };
  const readVariable = () => {
    // at script[i] === '$'
    if (script[i + 1] === '{') {
      const close = script.indexOf('}', i + 2);
      if (close < 0) return { text: script.slice(i), resolved: false, end: n };
      const inner = script.slice(i + 2, close);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=+?])(.*))?$/s.exec(inner);
      const end = close + 1;
      if (!m) return { text: script.slice(i, end), resolved: false, end };
      const [, name, op, word] = m;
      const value = vars[name];
      const set = value !== undefined && (op?.startsWith(':') ? value !== '' : true);
      if (!op) return value !== undefined ? { text: value, resolved: true, end } : { text: script.slice(i, end), resolved: false, end };
      if (op.endsWith('-') || op.endsWith('=')) {
        if (set) return { text: value, resolved: true, end };
        if (value === undefined && !/\$/.test(word)) return { text: word, resolved: true, end };
        return { text: script.slice(i, end), resolved: false, end };
      }
      if (op.endsWith('+')) return set ? { text: word, resolved: !/\$/.test(word), end } : { text: '', resolved: value !== undefined, end };
      return set ? { text: value, resolved: true, end } : { text: script.slice(i, end), resolved: false, end };
    }
    if (script[i + 1] === '(') {
      // command substitution: not evaluated; skip to the matching parenthesis
      let depth = 0;
      let j = i + 1;
      for (; j < n; j++) {
        if (script[j] === '(') depth++;
        else if (script[j] === ')' && --depth === 0) break;
      }
      return { text: script.slice(i, j + 1), resolved: false, end: j + 1 };
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*|^[0-9@*#?$!-]/.exec(script.slice(i + 1));
    if (!m) return { text: '$', resolved: true, end: i + 1 };
    const name = m[0];
    const end = i + 1 + name.length;
    const value = vars[name];
    return value !== undefined ? { text: value, resolved: true, end } : { text: `$${name}`, resolved: false, end };
  };

  /** Skips one word (a redirection target) without reading it. */
  const skipWord = () => {
    while (i < n && !/\s/.test(script[i]) && !SEPARATORS.some((s) => s !== '\n' && script.startsWith(s, i))) {
      if (script[i] === "'" || script[i] === '"') {
        const close = script.indexOf(script[i], i + 1);
        i = close < 0 ? n : close + 1;
      } else i++;
    }
  };

  while (i < n) {
    const c = script[i];
    // line continuation
    if (c === '\\' && script[i + 1] === '\n') {
      i += 2;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(script[i - 1]))) {
      while (i < n && script[i] !== '\n') i++;
      continue;
    }
    const redirect = /^[0-9]*(?:&>>?|>>?&?|<<<|<<-?|<>|<&?)(?:[0-9]+-?|-)?/.exec(script.slice(i, i + 8));
    if (redirect && (redirect[0].includes('<') || redirect[0].includes('>'))) {
      i += redirect[0].length;
      // the redirection target: one word, thrown away
      while (i < n && (script[i] === ' ' || script[i] === '\t')) i++;
      if (!/[0-9-]$/.test(redirect[0]) || /[<>]$/.test(redirect[0])) skipWord();
      continue;
    }
    const sep = SEPARATORS.find((s) => script.startsWith(s, i));
    if (sep) {
      finish();
      i += sep.length;
      continue;
    }
    // a word
    let text = '';
    let resolved = true;
    const wordStart = i;
    while (i < n) {
      const ch = script[i];
      if (ch === '\\' && script[i + 1] === '\n') {
        i += 2;
        continue;
      }
      if (/\s/.test(ch) || ch === '<' || ch === '>' || SEPARATORS.some((s) => s !== '\n' && script.startsWith(s, i))) break;
      if (ch === "'") {
        const close = script.indexOf("'", i + 1);
        const end = close < 0 ? n : close;
        text += script.slice(i + 1, end);
        i = end + 1;
        continue;
      }
      if (ch === '"') {
        i++;
        while (i < n && script[i] !== '"') {
          if (script[i] === '\\' && i + 1 < n) {
            if (script[i + 1] !== '\n') text += script[i + 1];
            i += 2;
            continue;
          }
          if (script[i] === '$') {
            const v = readVariable();
            text += v.text;
            resolved &&= v.resolved;
            i = v.end;
            continue;
          }
          if (script[i] === '`') {
            text += readBackticks();
            resolved = false;
            continue;
          }
          text += script[i++];
        }
        i++;
        continue;
      }
      if (ch === '\\') {
        text += script[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (ch === '$') {
        const v = readVariable();
        text += v.text;
        resolved &&= v.resolved;
        i = v.end;
        continue;
      }
      if (ch === '`') {
        text += readBackticks();
        resolved = false;
        continue;
      }
      text += ch;
      i++;
    }
    if (start < 0) start = wordStart;
    words.push({ text, resolved });
  }
  finish();
  return commands.map((c) => ({ ...c, words: commandWords(c.words) })).filter((c) => c.words.length > 0);
}

/** The words from the command name on: leading assignments and wrappers (`sudo`, `env X=1`, `then`) dropped. */
function commandWords(words) {
  let k = 0;
  for (;;) {
    while (k < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[k].text)) k++;
    if (k >= words.length) break;
    const w = words[k].text;
    if (PREFIX_WORDS.has(w)) {
      k++;
      // sudo -u user, xargs -r: skip their options (and the values of sudo's)
      while (k < words.length && words[k].text.startsWith('-')) {
        if (w === 'sudo' && /^-[ugCDprtUh]$/.test(words[k].text)) k++;
        k++;
      }
      continue;
    }
    if (w === 'env') {
      k++;
      while (k < words.length && (words[k].text.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[k].text))) k++;
      continue;
    }
    if (w === 'command' && words[k + 1] && !words[k + 1].text.startsWith('-')) {
      k++;
      continue;
    }
    break;
  }
  return words.slice(k);
}

/**
 * getopt-style reading of a command's arguments: `spec.short` maps option letters to whether they take a value,
 * `spec.long` maps long names likewise (unique prefixes accepted, as getopt_long does). Returns the options
 * (by canonical name, last one wins) and the positional words.
 */
export function getopt(args, spec) {
  const options = {};
  const positional = [];
  const longNames = Object.keys(spec.long ?? {});
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    if (a.text === '--') {
      positional.push(...args.slice(k + 1));
      break;
    }
    if (a.text.startsWith('--')) {
      const eq = a.text.indexOf('=');
      const given = a.text.slice(2, eq < 0 ? undefined : eq);
      const exact = longNames.find((l) => l === given);
      const candidates = exact ? [exact] : longNames.filter((l) => l.startsWith(given));
      const name = candidates.length === 1 ? candidates[0] : given;
      const takesValue = spec.long?.[name] ?? eq >= 0;
      const canonical = spec.alias?.[name] ?? name;
      if (!takesValue) options[canonical] = { text: 'true', resolved: true };
      else if (eq >= 0) options[canonical] = { text: a.text.slice(eq + 1), resolved: a.resolved };
      else if (k + 1 < args.length) options[canonical] = args[++k];
      continue;
    }
    if (a.text.startsWith('-') && a.text.length > 1) {
      for (let j = 1; j < a.text.length; j++) {
        const letter = a.text[j];
        const takesValue = spec.short?.[letter];
        const canonical = spec.alias?.[letter] ?? letter;
        if (!takesValue) {
          options[canonical] = { text: 'true', resolved: true };
          continue;
        }
        const rest = a.text.slice(j + 1);
        if (rest !== '') options[canonical] = { text: rest, resolved: a.resolved };
        else if (k + 1 < args.length) options[canonical] = args[++k];
        break;
      }
      continue;
    }
    positional.push(a);
  }
  return { options, positional };
}
