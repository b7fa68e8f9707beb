// The page's languages (domain.md §6.5: zh-Hans, bo, ii, en, ko, ja, ru). Every text is in
// i18n/<lang>.json; a file may name a "@fallback" language for messages it lacks. The choice is
// remembered on this device (localStorage), Simplified Chinese by default.

const STORAGE_KEY = "cinnabar.language";
export const DEFAULT_LANGUAGE = "zh-Hans";

let names = {};
let chain = []; // message tables, the chosen language first, then its fallbacks
let current = DEFAULT_LANGUAGE;

async function fetchJSON(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

/** The languages offered, as { tag: name in that language }. */
export async function languages() {
  if (Object.keys(names).length === 0) names = await fetchJSON("/static/i18n/languages.json");
  return names;
}

/** The language to start with: the one chosen before on this device, else Simplified Chinese. */
export function preferredLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && names[saved]) return saved;
  } catch {
    // Storage may be disabled: then nothing is remembered.
  }
  return DEFAULT_LANGUAGE;
}

/** Loads `tag`'s messages and their fallbacks, makes it current, and remembers it. */
export async function useLanguage(tag) {
  const tables = [];
  const seen = new Set();
  for (let next = tag; next && !seen.has(next) && tables.length < 4; ) {
    seen.add(next);
    const table = await fetchJSON(`/static/i18n/${next}.json`);
    tables.push(table);
    next = table["@fallback"];
  }
  if (!seen.has("en")) tables.push(await fetchJSON("/static/i18n/en.json"));
  chain = tables;
  current = tag;
  try {
    localStorage.setItem(STORAGE_KEY, tag);
  } catch {
    // Not remembered; the page still works.
  }
}

/** The current language tag. */
export function language() {
  return current;
}

/** The message `key` with `{name}` placeholders filled from `params`; the key itself if no file has it. */
export function t(key, params = {}) {
  const table = chain.find((m) => typeof m[key] === "string");
  const template = table ? table[key] : key;
  return template.replace(/\{([a-z_]+)\}/g, (whole, name) => (params[name] === undefined ? whole : String(params[name])));
}

/** Whether some message file has `key`. */
export function has(key) {
  return chain.some((m) => typeof m[key] === "string");
}

/** Fills every element marked `data-i18n` (text) or `data-i18n-aria-label` (its label) under `root`. */
export function applyMessages(root = document) {
  for (const e of root.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  for (const e of root.querySelectorAll("[data-i18n-aria-label]")) e.setAttribute("aria-label", t(e.dataset.i18nAriaLabel));
  document.documentElement.lang = current;
}
