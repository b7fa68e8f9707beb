// Verification codes as people type them (domain.md §6.6), ported from
// Sources/Records/Codes/VerificationCode.swift and GB32100.swift: the same normalisation, the same
// errors in the same order, and the GB 32100 check character, so that a mistyped code is caught
// on the device before any request.

/** The GB 32100 alphabet in value order: 0–9, then A–Y without I, O, S, V, Z (31 symbols). */
export const ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/** Characters in a code. */
export const CODE_LENGTH = 16;
/** Kind letters (the code's first character) and what they name. */
export const KINDS = Object.freeze({
  N: "notarial", F: "forensic", A: "arbitration", Y: "legal_aid", L: "law_firm", E: "evidence", P: "practice_certificate", K: "case",
});
/** Symbols that never occur in a code, and the one most likely meant. */
const SUGGESTIONS = Object.freeze({ S: "5", V: "U", Z: "2" });

/**
 * The GB 32100 check value of `payload` (alphabet symbols): position i has weight 3^i mod 31 and
 * c = (31 − Σ vᵢ·wᵢ mod 31) mod 31, so the whole code sums to 0 mod 31 with the check weighted 1.
 */
export function checkValue(payload) {
  let sum = 0;
  let weight = 1; // 3^i mod 31, kept reduced
  for (const symbol of payload) {
    const value = ALPHABET.indexOf(symbol);
    if (value < 0) return null;
    sum = (sum + value * weight) % 31;
    weight = (weight * 3) % 31;
  }
  return (31 - sum) % 31;
}

/** The check character for the first 15 characters of a code. */
export function checkCharacter(payload) {
  const value = checkValue(payload);
  return value === null ? null : ALPHABET[value];
}

const IGNORED = /^[\p{White_Space}\p{Dash}\p{Default_Ignorable_Code_Point}]$/u;

/**
 * Reads what was typed so far, normalising as VerificationCode(parsing:): full-width forms become
 * ASCII, white space, dashes and invisible characters are dropped, letters upper-cased, O read as
 * 0 and I as 1. Returns `{ value, error }`: the symbols read, and the first problem, if any, as
 * `{ code, … }` with the Swift error codes: code_bad_character (with `character`, `position` and a
 * `suggestion` for S, V, Z), code_unknown_kind, code_wrong_length, code_bad_check_character.
 * With `partial`, a code shorter than 16 characters is not yet an error.
 */
export function readCode(input, { partial = false } = {}) {
  let value = "";
  for (const raw of input) {
    let point = raw.codePointAt(0);
    // Full-width ASCII forms U+FF01…U+FF5E sit at a fixed offset from U+0021…U+007E.
    if (point >= 0xff01 && point <= 0xff5e) point -= 0xfee0;
    const c = String.fromCodePoint(point);
    if (IGNORED.test(c)) continue;
    const position = value.length + 1;
    if (point > 0x7f) return { value, error: { code: "code_bad_character", character: c, position } };
    let upper = c.toUpperCase();
    if (upper === "O") upper = "0";
    if (upper === "I") upper = "1";
    if (!ALPHABET.includes(upper)) {
      return { value, error: { code: "code_bad_character", character: upper, position, suggestion: SUGGESTIONS[upper] || null } };
    }
    value += upper;
  }
  const unknownKind = value.length > 0 && !KINDS[value[0]] ? { code: "code_unknown_kind", character: value[0] } : null;
  // While typing, an unknown kind letter is told at once; a finished code is checked in the Swift order.
  if (partial && value.length < CODE_LENGTH) return { value, error: unknownKind };
  if (value.length !== CODE_LENGTH) return { value, error: { code: "code_wrong_length", count: value.length } };
  if (unknownKind) return { value, error: unknownKind };
  if (checkCharacter(value.slice(0, 15)) !== value[15]) return { value, error: { code: "code_bad_check_character" } };
  return { value, error: null };
}

/** The code in groups of four for people: NK7Q-3HXD-9PRT-WM45 (a partial code too). */
export function grouped(value) {
  return value.match(/.{1,4}/g)?.join("-") ?? "";
}
