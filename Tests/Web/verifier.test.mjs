// The page's JavaScript verifier against the vectors the Swift verifier is tested with
// (Tests/Vectors, the same as ../shared/vectors), and against live bundles of a demo node with
// every kind of tampering. Run: node --test Tests/Web/ (set CINNABAR_URL and CINNABAR_CODES, a
// JSON object of label → code, for the live part; WebPageTests.swift does).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { checkCharacter, grouped, readCode } from "../../Sources/API/Web/js/code.mjs";
import { importEd25519Seed, importOrganisationKey, signatureBase, signatureHeaders } from "../../Sources/API/Web/js/court.mjs";
import { base58btcDecode, base58btcEncode, base64Decode, base64Encode, concat, hexDecode, hexEncode, utf8 } from "../../Sources/API/Web/js/encoding.mjs";
import {
  approvalMessage, canonicalJSON, checkSetChange, crossCheckAnswer, describeEpoch, ed25519Available, encodeSetChange, encodeValidatorSet,
  epochForSize, followEpochs, keyID, leafHash, multikeyPublicKey, nodeHash, parseCheckpoint, parseNote, parsePolicy, parseSetChange,
  parseTrailer, parseVerifierKey, setChangeStep, sha256, validatorSet, validatorSetHash, validatorsInPolicy, verifiedKeys, verifyBundle,
  verifyCheckpointNote, verifyConsistency, verifyDataIntegrityProof, verifyEpochCheckpoint, verifyInclusion,
} from "../../Sources/API/Web/js/verifier.mjs";

const vectors = (name) => JSON.parse(readFileSync(fileURLToPath(new URL(`../Vectors/${name}.json`, import.meta.url)), "utf8"));
const b64 = (s) => base64Decode(s);
/** The fields of a key string: the name, the ID, and the base64 (which may itself hold "+"). */
const keyFields = (k, skip = 0) => { const parts = k.split("+"); return [...parts.slice(skip, skip + 2), parts.slice(skip + 2).join("+")]; };
const flipBit = (bytes, bit) => { const out = Uint8Array.from(bytes); out[bit >> 3] ^= 1 << (bit & 7); return out; };

async function rejects(promise, code, message) {
  await assert.rejects(promise, (e) => { assert.equal(e.code, code, `${message}: ${e.message}`); return true; }, message);
}

// MARK: - RFC 6962 / RFC 9162

const tree = vectors("rfc6962");

test("leaf hashes of the RFC 6962 reference tree", async () => {
  for (const [i, hex] of tree.leaves_hex.entries()) {
    assert.equal(base64Encode(await leafHash(hexDecode(hex))), tree.leaf_hashes[i], `leaf ${i}`);
  }
  // The root of two leaves is their node hash.
  assert.equal(base64Encode(await nodeHash(b64(tree.leaf_hashes[0]), b64(tree.leaf_hashes[1]))), tree.roots[2]);
});

test("every inclusion proof of the vectors verifies, and every one-bit change is refused", async () => {
  let tampered = 0;
  for (const c of tree.inclusion) {
    const leaf = b64(tree.leaf_hashes[c.Index]), root = b64(tree.roots[c.Size]), proof = c.Proof.map(b64);
    await verifyInclusion(leaf, c.Index, c.Size, proof, root);
    for (let h = 0; h < proof.length; h++) {
      for (const bit of [0, 129, 255]) {
        const bad = proof.map((p, j) => (j === h ? flipBit(p, bit) : p));
        await rejects(verifyInclusion(leaf, c.Index, c.Size, bad, root), "root_mismatch", `proof hash ${h} bit ${bit} of ${JSON.stringify(c)}`);
        tampered++;
      }
    }
    await rejects(verifyInclusion(flipBit(leaf, 7), c.Index, c.Size, proof, root), "root_mismatch", "leaf");
    await rejects(verifyInclusion(leaf, c.Index, c.Size, proof, flipBit(root, 200)), "root_mismatch", "root");
    await rejects(verifyInclusion(leaf, c.Index, c.Size, [...proof, leaf], root), "wrong_proof_length", "extra hash");
    await rejects(verifyInclusion(leaf, c.Size, c.Size, proof, root), "index_out_of_range", "index = size");
    if (c.Index + 1 < c.Size && proof.length > 0) {
      await assert.rejects(verifyInclusion(leaf, c.Index + 1, c.Size, proof, root), "the leaf at the next index");
    }
    tampered += 4;
  }
  assert.ok(tampered > 100, `${tampered} tampered proofs tried`);
});

test("every consistency proof of the vectors verifies, and every one-bit change is refused", async () => {
  for (const c of tree.consistency) {
    const from = b64(tree.roots[c.From]), to = b64(tree.roots[c.To]), proof = c.Proof.map(b64);
    await verifyConsistency(c.From, from, c.To, to, proof);
    for (let h = 0; h < proof.length; h++) {
      const bad = proof.map((p, j) => (j === h ? flipBit(p, 99) : p));
      await rejects(verifyConsistency(c.From, from, c.To, to, bad), "root_mismatch", `hash ${h} of ${JSON.stringify(c)}`);
    }
    if (c.From !== c.To) {
      await rejects(verifyConsistency(c.From, flipBit(from, 3), c.To, to, proof), "root_mismatch", "old root");
      await rejects(verifyConsistency(c.From, from, c.To, flipBit(to, 3), proof), "root_mismatch", "new root");
    }
  }
  await rejects(verifyConsistency(3, b64(tree.roots[3]), 2, b64(tree.roots[2]), []), "size_out_of_range", "shrinking tree");
  await rejects(verifyConsistency(1, b64(tree.roots[1]), 8, b64(tree.roots[8]), []), "empty_proof", "empty proof");
});

// MARK: - C2SP signed notes

const notes = vectors("signed-note");

test("signed-note vectors: keys parse with their IDs and the notes verify", async () => {
  assert.equal(await ed25519Available(), true, "Node's WebCrypto verifies Ed25519 (RFC 8032 test 1)");
  for (const v of notes.verifying) {
    const key = await parseVerifierKey(v.vkey);
    assert.equal(key.keyID.toString(16).padStart(8, "0"), v.vkey.split("+")[1]);
    const note = parseNote(v.note);
    assert.deepEqual(await verifiedKeys(note, [key]), [key]);
  }
  for (const v of notes.signing) {
    const key = await parseVerifierKey(v.vkey);
    const note = parseNote(`${v.text}\n${v.signature_line}`);
    assert.deepEqual(await verifiedKeys(note, [key]), [key]);
    // Ed25519 is deterministic: signing with the private key through PKCS#8 gives the same line.
    const seed = b64(keyFields(v.skey, 2)[2]).subarray(1);
    const signer = await importEd25519Seed(seed);
    const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, signer, utf8(v.text)));
    const id = hexDecode(v.vkey.split("+")[1]);
    assert.equal(`\u2014 ${key.name} ${base64Encode(concat(id, signature))}\n`, v.signature_line);
  }
});

test("a changed note, signature or key is refused; unknown keys are ignored", async () => {
  const v = notes.verifying[1];
  const key = await parseVerifierKey(v.vkey);
  const note = parseNote(v.note);
  await rejects(verifiedKeys({ ...note, text: note.text.replace("6476701", "6476702") }, [key]), "signature_invalid", "text");
  for (const bit of [0, 100, 511]) {
    const bad = { ...note, signatures: [{ ...note.signatures[0], signature: flipBit(note.signatures[0].signature, bit) }] };
    await rejects(verifiedKeys(bad, [key]), "signature_invalid", `signature bit ${bit}`);
  }
  const other = await parseVerifierKey(notes.verifying[0].vkey);
  assert.deepEqual(await verifiedKeys(note, [other]), [], "a line from an unknown key is ignored");
  const [name, id, material] = keyFields(v.vkey);
  await rejects(parseVerifierKey(`${name}+${id}+${base64Encode(flipBit(b64(material), 20))}`), "bad_key", "key bytes changed: the ID no longer matches");
  await rejects(parseVerifierKey(`${name}+${id}+${base64Encode(Uint8Array.of(0x02, ...b64(material).subarray(1)))}`), "unknown_key_type", "type 0x02");
  assert.equal(await keyID(name, 1, b64(material).subarray(1)), parseInt(id, 16));
});

test("malformed notes and checkpoints are refused with the Swift codes", async () => {
  const line = notes.verifying[0].note.split("\n\n")[1];
  const cases = [
    ["text\n" + line, "malformed_note"], // no blank line
    ["text\n\n", "malformed_note"], // no signature
    ["text\n\n" + line.slice(0, -1), "malformed_note"], // no final newline
    ["text\n\n- x AAAAAAA=\n", "malformed_note"], // not an em dash
    ["te\u0001xt\n\n" + line, "malformed_note"],
    ["text\n\n" + line + line, "duplicate_signature"],
    ["text\n\n" + `\u2014 k AAAA\n`, "malformed_note"], // under 5 bytes
  ];
  for (const [text, code] of cases) assert.throws(() => parseNote(text), (e) => e.code === code, JSON.stringify(text));
  assert.throws(() => parseCheckpoint("origin\n01\n" + tree.roots[1] + "\n"), (e) => e.code === "malformed_checkpoint");
  assert.throws(() => parseCheckpoint("origin\n1\nAAAA\n"), (e) => e.code === "malformed_checkpoint");
  assert.equal(parseCheckpoint("origin\n8\n" + tree.roots[8] + "\n").size, 8n);
});

// MARK: - tlog-policy and quorum

test("a policy quorum counts distinct known validators", async () => {
  const text = "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n";
  const pairs = [];
  for (let i = 0; i < 4; i++) {
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const name = `origin/v${i}`;
    const id = await keyID(name, 1, raw);
    pairs.push({ name, pair, raw, id, vkey: `${name}+${id.toString(16).padStart(8, "0")}+${base64Encode(Uint8Array.of(1, ...raw))}` });
  }
  const policy = await parsePolicy(pairs.map((p, i) => `witness v${i} ${p.vkey}\n`).join("") + "group validators 3 v0 v1 v2 v3\nquorum validators\n");
  const sign = async (p) => {
    const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, p.pair.privateKey, utf8(text)));
    const id = Uint8Array.of(p.id >>> 24, (p.id >>> 16) & 255, (p.id >>> 8) & 255, p.id & 255);
    return `\u2014 ${p.name} ${base64Encode(concat(id, sig))}\n`;
  };
  const lines = await Promise.all(pairs.map(sign));
  const three = await verifyCheckpointNote(`${text}\n${lines.slice(0, 3).join("")}`, policy);
  assert.deepEqual([three.signedMembers, three.members, three.required], [3, 4, 3]);
  await rejects(verifyCheckpointNote(`${text}\n${lines.slice(0, 2).join("")}`, policy), "quorum_not_met", "2 of 4");
  // A stranger's line is ignored, not counted.
  const stranger = lines[0].replace("origin/v0", "origin/x");
  await rejects(verifyCheckpointNote(`${text}\n${lines.slice(1, 3).join("")}${stranger}`, policy), "quorum_not_met", "unknown key");
  for (const bad of ["quorum nobody\n", "group g 5 a\nquorum g\n", `witness a ${pairs[0].vkey}\nwitness b ${pairs[0].vkey}\nquorum a\n`, "witness a x\nquorum a\n", ""]) {
    await rejects(parsePolicy(bad), "malformed_policy", JSON.stringify(bad));
  }
});

// MARK: - Records: JCS and eddsa-jcs-2022

test("JCS vectors canonicalise byte for byte", () => {
  for (const c of vectors("jcs").cases) {
    const out = canonicalJSON(JSON.parse(c.input));
    assert.equal(out, c.canonical, c.name);
    assert.equal(hexEncode(utf8(out)), c.canonical_utf8_hex, c.name);
  }
});

test("the eddsa-jcs-2022 vector verifies, and its key file signs it again", async () => {
  const v = vectors("eddsa-jcs-2022");
  assert.equal(canonicalJSON(v.unsecuredDocument), v.canonicalDocument);
  const publicKey = multikeyPublicKey(v.publicKeyMultibase);
  const proof = { ...v.proofConfig, proofValue: v.proofValue };
  await verifyDataIntegrityProof({ ...v.unsecuredDocument, proof }, proof, publicKey);
  await rejects(verifyDataIntegrityProof({ ...v.unsecuredDocument, name: "Alumni Credential!", proof }, proof, publicKey), "signature_invalid", "document changed");
  const badValue = base58btcEncode(flipBit(base58btcDecode(v.proofValue).subarray(0), 9));
  await rejects(verifyDataIntegrityProof(v.unsecuredDocument, { ...proof, proofValue: badValue }, publicKey), "signature_invalid", "signature changed");
  // The organisation key file format (Multikey 0x8026 seed) signs the same hash data to the same signature.
  const org = await importOrganisationKey(JSON.stringify({ org: "X", key_id: "k1", private_key_multibase: v.privateKeyMultibase }));
  const hashData = concat(await sha256(utf8(canonicalJSON(v.proofConfig))), await sha256(utf8(v.canonicalDocument)));
  assert.equal(hexEncode(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, org.key, hashData))), v.signatureHex);
  assert.equal(base58btcEncode(hexDecode(v.signatureHex)), v.proofValue);
});

// MARK: - RFC 9421 request signatures

test("the RFC 9421 signature base is exactly the node's", async () => {
  const { base, params } = signatureBase({ method: "GET", path: "/v1/history/N99X-9QGK-TLL0-6QWE", query: "", created: 1764400000, keyid: "cinnabar:org:12510100MB0000001U#k1" });
  assert.equal(base, [
    '"@method": GET', '"@path": /v1/history/N99X-9QGK-TLL0-6QWE', '"@query": ?',
    '"@signature-params": ("@method" "@path" "@query");created=1764400000;keyid="cinnabar:org:12510100MB0000001U#k1";alg="ed25519"',
  ].join("\n"));
  assert.ok(!base.endsWith("\n"));
  const v = vectors("eddsa-jcs-2022");
  const org = await importOrganisationKey(JSON.stringify({ org: "12510100MB0000001U", key_id: "k1", private_key_multibase: v.privateKeyMultibase }));
  const headers = await signatureHeaders(org, "GET", "http://node.example/v1/history/N99X9QGKTLL06QWE?x=1");
  const created = /created=(\d+)/.exec(headers["Signature-Input"])[1];
  assert.match(headers["Signature-Input"], /^cinnabar=\("@method" "@path" "@query"\);created=\d+;keyid="cinnabar:org:12510100MB0000001U#k1";alg="ed25519"$/);
  const signature = b64(/^cinnabar=:(.*):$/.exec(headers.Signature)[1]);
  const signed = signatureBase({ method: "GET", path: "/v1/history/N99X9QGKTLL06QWE", query: "x=1", created, keyid: org.keyid }).base;
  const pub = await crypto.subtle.importKey("raw", multikeyPublicKey(v.publicKeyMultibase), { name: "Ed25519" }, false, ["verify"]);
  assert.ok(await crypto.subtle.verify({ name: "Ed25519" }, pub, signature, utf8(signed)));
  await assert.rejects(importOrganisationKey('{"org":"X","key_id":"k1","private_key_multibase":"z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}'), (e) => e.code === "key_file_not_ed25519");
});

// MARK: - Verification codes, as VerificationCodeTests.swift

test("typed forms normalise to the same code", () => {
  const example = "NK7Q3HXD9PRTWM45";
  assert.equal(checkCharacter("NK7Q3HXD9PRTWM4"), "5");
  const prefix = "N0K1Q3HXD9PRT01";
  const digits = prefix + checkCharacter(prefix);
  const table = [
    ["NK7Q3HXD9PRTWM45", example], ["nk7q3hxd9prtwm45", example], ["Nk7Q-3hXd-9PrT-wM45", example],
    ["  NK7Q 3HXD 9PRT WM45  ", example], ["\tNK7Q3HXD9PRTWM45\r\n", example], ["NK7Q–3HXD–9PRT–WM45", example],
    ["NK7Q—3HXD—9PRT—WM45", example], ["NK7Q‐3HXD‑9PRT−WM45", example], ["ＮＫ７Ｑ－３ＨＸＤ－９ＰＲＴ－ＷＭ４５", example],
    ["ｎｋ７ｑ　３ｈｘｄ　９ｐｒｔ　ｗｍ４５", example], ["NK7Q\u00A03HXD\u200B9PRT\uFEFFWM45", example], ["nk7q–3hxd ９prt-ｗm45", example],
    [digits, digits], ["NOK1Q3HXD9PRT01" + digits.slice(-1), digits], ["N0KIQ3HXD9PRT0I" + digits.slice(-1), digits],
    ["no-kiq3-hxd9-prtoi" + digits.slice(-1).toLowerCase(), digits], ["ＮＯＫＩＱ３ＨＸＤ９ＰＲＴＯＩ" + digits.slice(-1), digits],
  ];
  for (const [input, value] of table) assert.deepEqual(readCode(input), { value, error: null }, JSON.stringify(input));
  assert.equal(grouped(example), "NK7Q-3HXD-9PRT-WM45");
});

test("each rejection has the Swift code, in the Swift order", () => {
  const table = [
    ["NK7Q-3HXD-9PRT-WM4S", { code: "code_bad_character", character: "S", position: 16, suggestion: "5" }],
    ["NK7V-3HXD-9PRT-WM45", { code: "code_bad_character", character: "V", position: 4, suggestion: "U" }],
    ["zk7q3hxd9prtwm45", { code: "code_bad_character", character: "Z", position: 1, suggestion: "2" }],
    ["ＮＫ７Ｑ３ＨＸＤ９ＰＲＴＷＭ４Ｓ", { code: "code_bad_character", character: "S", position: 16, suggestion: "5" }],
    ["NK7Q.3HXD.9PRT.WM45", { code: "code_bad_character", character: ".", position: 5, suggestion: null }],
    ["NK7Q3HXD9PRTWM4\u0410", { code: "code_bad_character", character: "\u0410", position: 16 }],
    ["验证码NK7Q3HXD9PRTWM45", { code: "code_bad_character", character: "验", position: 1 }],
    ["NK7Q3HXD9PRTWM4\u0000", { code: "code_bad_character", character: "\u0000", position: 16 }],
    ["", { code: "code_wrong_length", count: 0 }], [" - – ", { code: "code_wrong_length", count: 0 }],
    ["NK7Q3HXD9PRTWM4", { code: "code_wrong_length", count: 15 }], ["NK7Q-3HXD-9PRT-WM45-5", { code: "code_wrong_length", count: 17 }],
    ["BK7Q3HXD9PRTWM45", { code: "code_unknown_kind", character: "B" }], ["OK7Q3HXD9PRTWM45", { code: "code_unknown_kind", character: "0" }],
    ["NK7Q3HXD9PRTWM46", { code: "code_bad_check_character" }], ["NK7Q3HXD9PRTMW45", { code: "code_bad_check_character" }],
  ];
  for (const [input, error] of table) {
    const got = readCode(input).error;
    for (const [k, v] of Object.entries(error)) assert.equal(got && got[k], v, `${JSON.stringify(input)}: ${k}`);
  }
  // While typing: a short code is no error yet, an unknown kind is told at once.
  assert.equal(readCode("nk7q-3h", { partial: true }).error, null);
  assert.equal(readCode("b", { partial: true }).error.code, "code_unknown_kind");
  // Every single substitution and adjacent or jump transposition of the example is caught.
  const code = "NK7Q3HXD9PRTWM45";
  for (let i = 0; i < 16; i++) {
    for (const s of "0123456789ABCDEFGHJKLMNPQRTUWXY") {
      if (s !== code[i]) assert.notEqual(readCode(code.slice(0, i) + s + code.slice(i + 1)).error, null, `${i}=${s}`);
    }
    for (const gap of [1, 2]) {
      if (i + gap < 16 && code[i] !== code[i + gap]) {
        const c = [...code];
        [c[i], c[i + gap]] = [c[i + gap], c[i]];
        assert.notEqual(readCode(c.join("")).error, null, `swap ${i},${i + gap}`);
      }
    }
  }
});

// MARK: - Live bundles of a demo node, intact and tampered

const live = process.env.CINNABAR_URL;
const liveCodes = live ? JSON.parse(process.env.CINNABAR_CODES || "{}") : {};

/** GET a JSON answer, waiting out the node's per-client lookup rate limit (429 + Retry-After) as a client should. */
async function fetchJSON(path) {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(live + path);
    if (r.status === 429 && attempt < 10) {
      await new Promise((resolve) => setTimeout(resolve, 1000 * Number(r.headers.get("retry-after") || 1)));
      continue;
    }
    assert.equal(r.status, 200, `${path}: ${r.status}`);
    return r.json();
  }
}

test("live bundles verify on this device and agree with the node's answers", { skip: !live && "CINNABAR_URL is not set" }, async () => {
  assert.ok(Object.keys(liveCodes).length >= 5, "the demo printed codes");
  for (const [label, code] of Object.entries(liveCodes)) {
    const bundle = await fetchJSON(`/v1/bundles/${code}`);
    const report = await verifyBundle(bundle);
    assert.equal(report.ok, true, `${label}: ${JSON.stringify(report.failure)}`);
    assert.ok(report.signaturesChecked);
    assert.equal(report.signatures.signedMembers, 1);
    const answer = await fetchJSON(`/v1/verify/${code}`);
    crossCheckAnswer(answer, report);
    assert.equal(report.ok, true, `${label} answer: ${JSON.stringify(report.failure)}`);
    const trailer = parseTrailer(b64(bundle.entries[0].trailer));
    assert.equal(trailer.origin, bundle.origin);
  }
});

test("every tampered live bundle is caught, naming the failed check", { skip: !live && "CINNABAR_URL is not set" }, async () => {
  const code = liveCodes["notarial-revoked"];
  const original = await fetchJSON(`/v1/bundles/${code}`);
  const answer = await fetchJSON(`/v1/verify/${code}`);
  const copy = () => structuredClone(original);
  const flip64 = (s, bit) => base64Encode(flipBit(b64(s), bit));
  const noteLines = original.checkpoint.split("\n");
  const cases = [];
  for (let h = 0; h < original.entries[0].inclusion_proof.length; h++) {
    cases.push([`inclusion proof hash ${h}`, (b) => { b.entries[0].inclusion_proof[h] = flip64(b.entries[0].inclusion_proof[h], 13 * h + 1); }, "inclusion"]);
  }
  for (const at of [8, 400, 2000]) cases.push([`record leaf bit ${at}`, (b) => { b.entries[0].leaf = flip64(b.entries[0].leaf, at); }, "inclusion"]);
  cases.push(["revocation leaf", (b) => { b.entries[1].leaf = flip64(b.entries[1].leaf, 777); }, "inclusion"]);
  cases.push(["trailer leaf (time)", (b) => { b.entries[0].trailer = flip64(b.entries[0].trailer, 8 * 60 + 3); }, "trailer"]);
  cases.push(["trailer proof", (b) => { b.entries[0].trailer_proof[0] = flip64(b.entries[0].trailer_proof[0], 5); }, "trailer"]);
  cases.push(["leaf index", (b) => { b.entries[0].leaf_index += 1; }, "inclusion"]);
  cases.push(["checkpoint root", (b) => { b.checkpoint = [noteLines[0], noteLines[1], flip64(noteLines[2], 77), ...noteLines.slice(3)].join("\n"); }, "checkpoint_signatures"]);
  cases.push(["checkpoint size", (b) => { b.checkpoint = [noteLines[0], String(Number(noteLines[1]) + 1), ...noteLines.slice(2)].join("\n"); }, "checkpoint_signatures"]);
  cases.push(["validator signature", (b) => {
    const sig = noteLines[4].split(" ");
    sig[2] = flip64(sig[2], 8 * 4 + 17);
    b.checkpoint = [...noteLines.slice(0, 4), sig.join(" "), ...noteLines.slice(5)].join("\n");
  }, "checkpoint_signatures"]);
  cases.push(["validator key in the policy", (b) => {
    const vkey = b.policy.split("\n")[0].split(" ")[2];
    const [n, id, m] = keyFields(vkey);
    b.policy = b.policy.replace(vkey, `${n}+${id}+${flip64(m, 8 * 5)}`);
  }, "checkpoint_signatures"]);
  cases.push(["writer key", (b) => {
    const w = b.writers[0];
    const bytes = base58btcDecode(w.keys.k1);
    bytes[10] ^= 1;
    w.keys.k1 = base58btcEncode(bytes);
  }, "writer_signature"]);
  cases.push(["format", (b) => { b.format = "cinnabar-bundle/v0"; }, "format"]);
  for (const [name, mutate, check] of cases) {
    const bundle = copy();
    mutate(bundle);
    const report = await verifyBundle(bundle);
    assert.equal(report.ok, false, `${name} was not caught`);
    assert.equal(report.failure && report.failure.id, check, `${name}: ${JSON.stringify(report.failure)}`);
  }
  // An answer that says more than the signed records is caught too.
  const answers = [
    ["document number", (a) => { a.document_number = "(2026)川成证字第9号"; }, "answer_fields"],
    ["issuer", (a) => { a.issuer = "12510100MB0000009X"; }, "answer_fields"],
    ["file digest", (a) => { a.sha256 = ["00".repeat(32)]; }, "answer_digests"],
    ["revocation date", (a) => { a.history[0].date = "1999-01-01"; }, "answer_history"],
    ["another record", (a) => { a.record_id = "0".repeat(32); }, "answer_record"],
    ["deposit time", (a) => { a.receipt.logged_at = "2020-01-01T00:00:00+08:00"; }, "answer_fields"],
  ];
  for (const [name, mutate, check] of answers) {
    const a = structuredClone(answer);
    mutate(a);
    const report = crossCheckAnswer(a, await verifyBundle(copy()));
    assert.equal(report.failure && report.failure.id, check, `${name}: ${JSON.stringify(report.failure)}`);
  }
  assert.ok(cases.length >= 15, `${cases.length} tamperings tried`);
});

// MARK: - Validator-set epochs (consensus.md §2.12, Specs/ledger-format.md §2.1, §4, §10)
//
// Tests/Web/fixtures/epochs (made as its README says, with the real binary): a consortium of four
// validators and an observer that added the observer (leaf 75) and then removed the founder
// "notary" (leaf 77). bundle.json proves a record logged after both changes, bundle-early.json one
// logged before them, both under the checkpoint of size 153; policy.txt is the genesis policy;
// old-set-checkpoint.txt is that checkpoint signed by notary, court and bureau — a quorum of the
// genesis set, which no longer decides at that size. swift-verdicts.json is what `cinnabar verify`
// said of each variant below (with CINNABAR_BIN set, it is asked again).

const epochFile = (name) => readFileSync(fileURLToPath(new URL(`fixtures/epochs/${name}`, import.meta.url)), "utf8");
const epochBundle = JSON.parse(epochFile("bundle.json"));
const earlyBundle = JSON.parse(epochFile("bundle-early.json"));
const genesisPolicy = epochFile("policy.txt");
const oldSetCheckpoint = epochFile("old-set-checkpoint.txt");
const ORIGIN = epochBundle.origin;

async function genesisSet() {
  return validatorsInPolicy(await parsePolicy(genesisPolicy), ORIGIN);
}

/** The bundle variants: name, bundle, the check that must fail (null: none) and a phrase of its detail. */
function epochVariants() {
  const variant = (base, mutate) => { const b = structuredClone(base); mutate(b); return b; };
  const flipByte = (s, at) => { const bytes = b64(s); bytes[at] ^= 0xff; return base64Encode(bytes); };
  const withoutApproval = (leaf) => {
    const change = parseSetChange(b64(leaf));
    change.approvals.pop();
    return base64Encode(encodeSetChange(change));
  };
  const changeNote = epochBundle.validator_set_changes[0].checkpoint;
  return [
    ["a record after both changes", epochBundle, null, ""],
    ["a record before the changes", earlyBundle, null, ""],
    ["the first change leaf with a byte flipped (the new set)", variant(epochBundle, (b) => { b.validator_set_changes[0].leaf = flipByte(b.validator_set_changes[0].leaf, 40); }),
      "validator_set_change", "validator-set change at leaf 75: leaf 75 is not in the checkpoint of size 77"],
    ["the second change leaf with a byte flipped (an approval)", variant(epochBundle, (b) => { b.validator_set_changes[1].leaf = flipByte(b.validator_set_changes[1].leaf, b64(b.validator_set_changes[1].leaf).length - 9); }),
      "validator_set_change", "validator-set change at leaf 77: leaf 77 is not in the checkpoint of size 79"],
    ["the first change re-encoded with one approval fewer (2 of 4)", variant(epochBundle, (b) => { b.validator_set_changes[0].leaf = withoutApproval(b.validator_set_changes[0].leaf); }),
      "validator_set_change", "leaf 75 is not in the checkpoint of size 77"],
    ["the changes left out", variant(epochBundle, (b) => { delete b.validator_set_changes; }), "checkpoint_signatures", "quorum_not_met"],
    ["the changes left out, under a checkpoint a quorum of the genesis set signed", variant(epochBundle, (b) => { delete b.validator_set_changes; b.checkpoint = oldSetCheckpoint; }),
      "trailer_validators", "block 51 names another validator set than the one in force at size 101 (genesis set: bureau, court, lab, notary): a validator-set change is missing"],
    ["the changes left out of a bundle of a record before them, under that checkpoint", variant(earlyBundle, (b) => { delete b.validator_set_changes; b.checkpoint = oldSetCheckpoint; }), null, ""],
    ["the second change left out", variant(epochBundle, (b) => { b.validator_set_changes.pop(); }),
      "checkpoint_signatures", "at size 153 the validators in force are the set since the change at leaf 75: bureau, court, lab, notary, observer-1"],
    ["the changes in the wrong order", variant(epochBundle, (b) => { b.validator_set_changes.reverse(); }),
      "validator_set_change", "invalid_set_change: validator-set change at leaf 77: one validator at a time: this adds 1, removes 1 and re-keys 0"],
    ["the checkpoint signed by a quorum of the old set", variant(epochBundle, (b) => { b.checkpoint = oldSetCheckpoint; }),
      "checkpoint_signatures", "at size 153 the validators in force are the set since the change at leaf 77: bureau, court, lab, observer-1; signed by notary, no longer a validator at that size"],
    // The old set's checkpoint of the second change's block (size 79) is valid for size 79, which
    // that set decided; as the bundle's checkpoint it proves nothing about a record logged later.
    ["a change's checkpoint (the old set's) as the bundle's", variant(epochBundle, (b) => { b.checkpoint = b.validator_set_changes[1].checkpoint; }),
      "inclusion", "leaf 99: index_out_of_range"],
    ["the second change proved under the first change's checkpoint", variant(epochBundle, (b) => { b.validator_set_changes[1].checkpoint = changeNote; }),
      "validator_set_change", "unproved_set_change: validator-set change at leaf 77: the checkpoint of size 77 is not of the block of leaf 77 (size 79)"],
    ["the first change's checkpoint with notary's signature removed", variant(epochBundle, (b) => {
      b.validator_set_changes[0].checkpoint = changeNote.split("\n").filter((l) => !l.includes("/notary ")).join("\n");
    }), "validator_set_change", "untrusted_checkpoint: validator-set change at leaf 75: size 77 is signed by 2 of the 4 validators in force (genesis set: bureau, court, lab, notary): bureau, court; 3 needed"],
    ["a change leaf index moved", variant(epochBundle, (b) => { b.validator_set_changes[0].leaf_index = 74; }),
      "validator_set_change", "the checkpoint of size 77 is not of the block of leaf 74 (size 76)"],
  ];
}

/** The JS check a line of `cinnabar verify` stands for. */
function swiftCheckID(line) {
  if (line === null) return null;
  const table = [
    [/^format/, "format"], [/^validator-set change at leaf|pins no validators group/, "validator_set_change"],
    [/^checkpoint signatures/, "checkpoint_signatures"], [/^checkpoint origin/, "checkpoint_origin"],
    [/names another validator set/, "trailer_validators"], [/: inclusion proof:/, "inclusion"], [/: block trailer:|: in block /, "trailer"],
    [/not a well-formed record/, "record"], [/writer signature/, "writer_signature"],
  ];
  const hit = table.find(([re]) => re.test(line));
  return hit ? hit[1] : `unknown: ${line}`;
}

/** `cinnabar verify --bundle --policy` on `bundle` with the genesis policy: {ok, failure: its first FAIL line or null}. */
function swiftVerify(bin, bundle) {
  const dir = mkdtempSync(join(tmpdir(), "cinnabar-epochs-"));
  try {
    writeFileSync(join(dir, "bundle.json"), JSON.stringify(bundle));
    writeFileSync(join(dir, "policy.txt"), genesisPolicy);
    const run = spawnSync(bin, ["verify", "--bundle", join(dir, "bundle.json"), "--policy", join(dir, "policy.txt")], { encoding: "utf8" });
    const failure = run.stdout.split("\n").find((l) => l.startsWith("FAIL "));
    return { ok: run.status === 0, failure: failure ? failure.slice(5) : null };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a change leaf decodes as Swift encodes it, and the approvals sign the spec's bytes", async () => {
  const [first, second] = epochBundle.validator_set_changes.map((c) => b64(c.leaf));
  const add = parseSetChange(first), remove = parseSetChange(second);
  assert.deepEqual(add.newSet.map((v) => v.name), ["court", "observer-1", "lab", "notary", "bureau"], "the new set in key order");
  assert.deepEqual(add.approvals.map((a) => a.validator), [0, 1, 2], "court, lab and notary: indices in the genesis set");
  assert.deepEqual(remove.newSet.map((v) => v.name), ["court", "observer-1", "lab", "bureau"]);
  assert.equal(remove.approvals.length, 4);
  assert.deepEqual(encodeSetChange(add), first, "one encoding per change");
  assert.deepEqual(encodeSetChange(remove), second);
  const genesis = await genesisSet();
  assert.deepEqual(genesis.map((v) => v.name), ["court", "lab", "notary", "bureau"], "the policy's group, in key order");
  const message = await approvalMessage(ORIGIN, 0, genesis, add.newSet);
  assert.deepEqual(message.subarray(0, 24), utf8("\u0000ledger-validator-set/v1"));
  assert.equal(message.length, 24 + 2 + utf8(ORIGIN).length + 8 + 32 + 32);
  assert.deepEqual(message.subarray(26 + utf8(ORIGIN).length, 34 + utf8(ORIGIN).length), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0), "epoch 0");
  const step = await checkSetChange(add, { origin: ORIGIN, epoch: 0, current: genesis });
  assert.deepEqual([step.kind, step.validator.name, step.text, step.approvers], ["added", "observer-1", "adds observer-1", 3]);
  const step2 = await checkSetChange(remove, { origin: ORIGIN, epoch: 1, current: add.newSet });
  assert.deepEqual([step2.kind, step2.text, step2.approvers], ["removed", "removes notary", 4]);
});

test("the validator-set hash is the one block trailers name, whatever the order given", async () => {
  const genesis = await genesisSet();
  const early = parseTrailer(b64(earlyBundle.entries[0].trailer)), late = parseTrailer(b64(epochBundle.entries[0].trailer));
  assert.deepEqual(await validatorSetHash(genesis), early.validatorSetHash);
  assert.deepEqual(await validatorSetHash([...genesis].reverse()), early.validatorSetHash);
  assert.deepEqual(early.nextValidatorSetHash, early.validatorSetHash, "no change in that block");
  const last = parseSetChange(b64(epochBundle.validator_set_changes[1].leaf)).newSet;
  assert.deepEqual(await validatorSetHash(last), late.validatorSetHash);
  assert.notDeepEqual(await validatorSetHash(genesis), late.validatorSetHash);
});

test("a change without a quorum of valid approvals, or replayed at another epoch, is refused", async () => {
  const genesis = await genesisSet();
  const change = parseSetChange(b64(epochBundle.validator_set_changes[0].leaf));
  const check = (c, epoch = 0) => checkSetChange(c, { origin: ORIGIN, epoch, current: genesis });
  const fewer = parseSetChange(encodeSetChange({ ...change, approvals: change.approvals.slice(0, 2) }));
  await assert.rejects(check(fewer), (e) => e.code === "unapproved_set_change" && e.message === "approved by 2 of the 4 current validators; 3 needed");
  const flipped = { ...change, approvals: change.approvals.map((a, i) => (i === 1 ? { ...a, signature: flipBit(a.signature, 77) } : a)) };
  await assert.rejects(check(flipped), (e) => e.code === "unapproved_set_change" && e.message === "the approval at index 1 is not a current validator's signature over this change");
  const stranger = { ...change, approvals: [...change.approvals, { validator: 9, signature: change.approvals[0].signature }] };
  await assert.rejects(check(stranger), (e) => e.message === "the approval at index 9 is not a current validator's signature over this change");
  await assert.rejects(check(change, 1), (e) => e.code === "unapproved_set_change", "approvals name the epoch: not valid at the next one");
  await assert.rejects(checkSetChange(change, { origin: "other.example/log", epoch: 0, current: genesis }), (e) => e.code === "unapproved_set_change", "nor for another log");
});

test("a change must be one step: one validator added, removed or re-keyed", async () => {
  const genesis = await genesisSet();
  const [court, lab, notary, bureau] = genesis;
  assert.throws(() => setChangeStep(genesis, genesis), (e) => e.code === "invalid_set_change" && e.message === "the new set is the current set");
  const swapped = validatorSet([court, lab, bureau, { name: "notary-2", publicKey: notary.publicKey }]);
  assert.throws(() => setChangeStep(genesis, swapped), (e) => e.message === "one validator at a time: this adds 1, removes 1 and re-keys 0");
  const rekeyed = validatorSet([court, lab, bureau, { name: "notary", publicKey: flipBit(notary.publicKey, 3) }]);
  const step = setChangeStep(genesis, rekeyed);
  assert.deepEqual([step.kind, step.text], ["rekeyed", "gives notary a new key"]);
  assert.equal(setChangeStep(genesis, validatorSet([court, lab, notary])).text, "removes bureau");
  const badName = validatorSet([...genesis, { name: "new one", publicKey: flipBit(notary.publicKey, 9) }]);
  await assert.rejects(checkSetChange({ newSet: badName, approvals: [] }, { origin: ORIGIN, epoch: 0, current: genesis }),
    (e) => e.code === "invalid_set_change" && e.message === `validator "new one" gives no valid key name under ${ORIGIN}`);
});

test("malformed change leaves are refused, with the Swift reason", () => {
  const leaf = b64(epochBundle.validator_set_changes[0].leaf);
  const change = parseSetChange(leaf);
  const edit = (f) => { const out = Uint8Array.from(leaf); f(out); return out; };
  const setBytes = encodeValidatorSet(change.newSet);
  const [a, b] = [change.newSet[0], change.newSet[1]];
  const unsorted = concat(Uint8Array.of(0x02, 1), Uint8Array.of(0, 0, 0, 2), Uint8Array.of(0, utf8(b.name).length), utf8(b.name), b.publicKey,
    Uint8Array.of(0, utf8(a.name).length), utf8(a.name), a.publicKey, Uint8Array.of(0, 0));
  const cases = [
    [edit((x) => { x[0] = 0x03; }), "not a validator-set change leaf"],
    [edit((x) => { x[1] = 2; }), "unknown version"],
    [concat(leaf, Uint8Array.of(0)), "bytes after the approvals"],
    [leaf.subarray(0, leaf.length - 1), "truncated approval"],
    [leaf.subarray(0, 2 + setBytes.length + 1), "truncated before the approvals"],
    [leaf.subarray(0, 4), "new set: invalid validator set: the encoding ends before the count"],
    [leaf.subarray(0, 20), "new set: invalid validator set: the encoding ends inside a validator"],
    [concat(Uint8Array.of(0x02, 1, 0, 0, 0, 0), Uint8Array.of(0, 0)), "new set: invalid validator set: 0 validators; 1 to 256 allowed"],
    [unsorted, "new set: invalid validator set: validators are not in key order"],
    [concat(Uint8Array.of(0x02, 1), encodeValidatorSet([a]), Uint8Array.of(0, 2, 0, 1), new Uint8Array(64), Uint8Array.of(0, 1), new Uint8Array(64)),
      "approvals are not in strictly increasing validator order"],
    [concat(Uint8Array.of(0x02, 1), encodeValidatorSet([a]), Uint8Array.of(1, 1)), "257 approvals; at most 256"],
    [new Uint8Array(65536), "the leaf is over 65535 bytes"],
  ];
  for (const [bytes, why] of cases) assert.throws(() => parseSetChange(bytes), (e) => e.code === "malformed_set_change" && e.message === why, why);
  const twice = concat(Uint8Array.of(0x02, 1, 0, 0, 0, 2), Uint8Array.of(0, 1), utf8("x"), a.publicKey, Uint8Array.of(0, 1), utf8("x"), b.publicKey, Uint8Array.of(0, 0));
  assert.throws(() => parseSetChange(twice), (e) => e.message === "new set: invalid validator set: two validators share a name");
});

test("followEpochs opens one epoch per change, from size i + 3, and says which step failed", async () => {
  const genesis = await genesisSet();
  const epochs = await followEpochs(genesis, ORIGIN, epochBundle.validator_set_changes);
  assert.deepEqual(epochs.map((e) => [e.number, e.fromSize, e.changeIndex, e.set.map((v) => v.name).sort().join(",")]), [
    [0, 0n, null, "bureau,court,lab,notary"], [1, 78n, 75n, "bureau,court,lab,notary,observer-1"], [2, 80n, 77n, "bureau,court,lab,observer-1"],
  ]);
  // Sizes up to i + 2 (the change's own block) belong to the set before it.
  assert.equal(epochForSize(epochs, 77n).number, 0);
  assert.equal(epochForSize(epochs, 78n).number, 1);
  assert.equal(epochForSize(epochs, 79n).number, 1);
  assert.equal(epochForSize(epochs, 80n).number, 2);
  assert.equal(describeEpoch(epochs[2]), "set since the change at leaf 77: bureau, court, lab, observer-1");
  // The old set's checkpoint of a later size: a quorum of the genesis set, not of the set in force.
  await assert.rejects(verifyEpochCheckpoint(oldSetCheckpoint, epochs, ORIGIN), (e) => {
    assert.equal(e.code, "untrusted_checkpoint");
    assert.equal(e.message, "size 153 is signed by 2 of the 4 validators in force (set since the change at leaf 77: bureau, court, lab, observer-1):"
      + " bureau, court; 3 needed; also signed by notary, no longer a validator at that size");
    assert.deepEqual(e.former, ["notary"]);
    return true;
  });
  assert.equal((await verifyEpochCheckpoint(epochBundle.checkpoint, epochs, ORIGIN)).signers.length, 3);
  // Under the genesis set alone, the same note passes: that is what following the changes prevents.
  assert.equal((await verifyEpochCheckpoint(oldSetCheckpoint, epochs.slice(0, 1), ORIGIN)).signers.length, 3);
  await assert.rejects(followEpochs(genesis, "other.example/log", epochBundle.validator_set_changes),
    (e) => e.code === "untrusted_checkpoint" && e.message === `validator-set change at leaf 75: the checkpoint is of ${ORIGIN}, not other.example/log` && e.epochs.length === 1);
  // The second change alone: its checkpoint holds a quorum of the genesis set too, but from the
  // genesis set it adds one validator and removes another.
  await assert.rejects(followEpochs(genesis, ORIGIN, epochBundle.validator_set_changes.slice(1)),
    (e) => e.code === "invalid_set_change" && e.leafIndex === 77 && e.message === "validator-set change at leaf 77: one validator at a time: this adds 1, removes 1 and re-keys 0");
  await assert.rejects(followEpochs(genesis.slice(0, 3), ORIGIN, epochBundle.validator_set_changes), (e) => e.leafIndex === 75, "another genesis set");
});

test("bundles across validator-set changes: the JavaScript verifier agrees with cinnabar verify", async () => {
  const recorded = JSON.parse(epochFile("swift-verdicts.json"));
  const bin = process.env.CINNABAR_BIN, record = bin && process.env.CINNABAR_RECORD_VERDICTS;
  const fresh = {};
  for (const [name, bundle, check, phrase] of epochVariants()) {
    const report = await verifyBundle(bundle, { policyText: genesisPolicy });
    assert.equal(report.failure ? report.failure.id : null, check, `${name}: ${JSON.stringify(report.failure)}`);
    assert.equal(report.ok, check === null, name);
    if (check) assert.ok(report.failure.detail.includes(phrase), `${name}: ${report.failure.detail}`);
    const swift = bin ? swiftVerify(bin, bundle) : recorded[name];
    assert.ok(swift, `${name}: no verdict of cinnabar verify recorded`);
    assert.equal(swift.ok, report.ok, `${name}: cinnabar verify says ${JSON.stringify(swift)}`);
    assert.equal(swiftCheckID(swift.failure), check, `${name}: cinnabar verify failed at ${swift.failure}`);
    if (bin && !record) assert.deepEqual(swift, recorded[name], `${name}: the recorded verdict is still cinnabar verify's`);
    fresh[name] = swift;
  }
  if (record) writeFileSync(fileURLToPath(new URL("fixtures/epochs/swift-verdicts.json", import.meta.url)), `${JSON.stringify(fresh, null, 2)}\n`);
  // The report: one line per change followed, then the checkpoint under the set in force.
  const report = await verifyBundle(epochBundle, { policyText: genesisPolicy });
  const lines = report.checks.filter((c) => c.id === "validator_set_change");
  assert.deepEqual(lines.map((c) => c.detail), [
    "validator-set change at leaf 75 adds observer-1, approved by 3 of the 4 validators before it and proved under their checkpoint of size 77;"
      + " from size 78 the validators are bureau, court, lab, notary, observer-1",
    "validator-set change at leaf 77 removes notary, approved by 4 of the 5 validators before it and proved under their checkpoint of size 79;"
      + " from size 80 the validators are bureau, court, lab, observer-1",
  ]);
  assert.deepEqual(lines.map((c) => c.args), [{ index: 75, name: "observer-1", change: "added", from: 78 }, { index: 77, name: "notary", change: "removed", from: 80 }]);
  assert.deepEqual(report.checks.map((c) => c.id).slice(0, 5), ["format", "validator_set_change", "validator_set_change", "checkpoint_signatures", "checkpoint_origin"]);
  assert.deepEqual([report.signatures.signedMembers, report.signatures.members, report.signatures.required], [3, 4, 3]);
  assert.deepEqual(report.epochs.map((e) => e.fromSize), [0n, 78n, 80n]);
  const old = await verifyBundle({ ...epochBundle, checkpoint: oldSetCheckpoint }, { policyText: genesisPolicy });
  assert.equal(old.failure.args.former, "notary");
  // The bundle's own policy is the genesis policy: the default gives the same verdict.
  assert.equal(epochBundle.policy, genesisPolicy);
  assert.equal((await verifyBundle(epochBundle)).ok, true);
});

test("without Ed25519 the changes are followed by their proofs alone, and marked unchecked", async () => {
  const genesis = await genesisSet();
  const unsigned = structuredClone(epochBundle.validator_set_changes);
  unsigned[0].checkpoint = unsigned[0].checkpoint.split("\n").filter((l) => !l.startsWith("\u2014")).join("\n") + "\u2014 nobody AAAAAAA=\n";
  const epochs = await followEpochs(genesis, ORIGIN, unsigned, { verifySignatures: false });
  assert.deepEqual(epochs.map((e) => e.fromSize), [0n, 78n, 80n]);
  assert.equal(epochs[1].step.approvers, null, "approvals not counted");
  await assert.rejects(followEpochs(genesis, ORIGIN, unsigned), (e) => e.code === "untrusted_checkpoint" && /signed by 0 of the 4/.test(e.message));
  const flipped = structuredClone(epochBundle.validator_set_changes);
  flipped[1].leaf = base64Encode(flipBit(b64(flipped[1].leaf), 300));
  await assert.rejects(followEpochs(genesis, ORIGIN, flipped, { verifySignatures: false }), (e) => e.code === "unproved_set_change" && e.leafIndex === 77);
});

test("a policy that pins no validators group cannot follow changes", async () => {
  const policy = genesisPolicy.replace("group validators 3", "group founders 3").replace("quorum validators", "quorum founders");
  const report = await verifyBundle(epochBundle, { policyText: policy });
  assert.equal(report.failure.id, "validator_set_change");
  assert.match(report.failure.detail, /the policy pins no validators group to follow the validator-set changes from: the policy has no validators group/);
  // Without changes, such a policy is checked as before (and this bundle's checkpoint does not satisfy it).
  const before = await verifyBundle({ ...earlyBundle, validator_set_changes: [] }, { policyText: policy });
  assert.equal(before.failure.id, "checkpoint_signatures");
});

// MARK: - Message files: every text the page shows is in them

test("every message the page uses is in every language, Nuosu Yi included (a draft that falls back to Chinese for later keys)", () => {
  const web = (path) => readFileSync(fileURLToPath(new URL(`../../Sources/API/Web/${path}`, import.meta.url)), "utf8");
  const html = web("index.html"), app = web("js/app.mjs"), verifier = web("js/verifier.mjs");
  const used = new Set([
    ...[...html.matchAll(/data-i18n(?:-aria-label)?="([^"]+)"/g)].map((m) => m[1]),
    ...[...app.matchAll(/\bt\("([^"]+)"/g)].map((m) => m[1]),
    ...[...verifier.matchAll(/\badd\("([a-z_]+)"/g)].map((m) => `check.${m[1]}`),
    "check.consistency", "check.entry_encoding",
    ...["VALID", "VALID_CORRECTED", "SUPERSEDED", "SUSPENDED", "NOT_ENFORCEABLE", "REVOKED", "EXPIRED", "NOT_FOUND", "EVIDENCE", "CASE"].map((s) => `status.${s}`),
    ...["VALID", "VALID_CORRECTED", "SUPERSEDED", "SUSPENDED", "NOT_ENFORCEABLE", "NOT_FOUND", "EVIDENCE", "CASE", "OTHER"].map((s) => `status.${s}.explain`),
    ...["code_bad_character", "code_unknown_kind", "code_wrong_length", "code_bad_check_character"].map((c) => `code.error.${c}`),
    ..."NFAYLEPK".split("").map((k) => `kind.${k}`),
    ...["time", "type", "writer", "key", "leaf", "proven"].map((c) => `court.col.${c}`),
  ]);
  assert.ok(used.size > 100, `${used.size} messages used`);
  const languages = JSON.parse(web("i18n/languages.json"));
  assert.deepEqual(Object.keys(languages), ["zh-Hans", "en", "bo", "ii", "ko", "ja", "ru"]);
  for (const lang of ["zh-Hans", "en", "bo", "ii", "ko", "ja", "ru"]) {
    const table = JSON.parse(web(`i18n/${lang}.json`));
    const missing = [...used].filter((key) => typeof table[key] !== "string");
    assert.deepEqual(missing, [], `${lang} lacks messages`);
    for (const [key, text] of Object.entries(table)) {
      if (key.startsWith("@")) continue;
      const english = JSON.parse(web("i18n/en.json"))[key];
      const placeholders = (s) => [...s.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]).sort().join(",");
      assert.equal(placeholders(text), placeholders(english), `${lang} ${key}: the same placeholders as English`);
    }
  }
  assert.equal(JSON.parse(web("i18n/ii.json"))["@fallback"], "zh-Hans");
});
