#!/usr/bin/env python3
"""Drive the verification page in headless Chromium (Debian's chromium + chromium-driver) against
a live demo node, through a small proxy that can tamper with what the node sends.

Usage: browser_test.py --url NODE_URL --codes JSON --ledger DIR --artefacts DIR

Speaks W3C WebDriver to chromedriver directly (plain HTTP + JSON, no client library). Each
scenario prints one line; the last line is 'N passed, M failed'. Screenshots of every state are
saved under --artefacts. Exits 1 on any failure, 2 if chromium or chromedriver is missing.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "Sources/API/Web/i18n"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def messages(lang: str) -> dict:
    return json.loads((MESSAGES / f"{lang}.json").read_text(encoding="utf-8"))


# MARK: - The node's test double: a pass-through proxy that can flip one bit of a bundle


def flip_base64(text: str, bit: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[bit // 8] ^= 1 << (bit % 8)
    return base64.b64encode(bytes(raw)).decode()


def tamper_bundle(body: bytes, how: str) -> bytes:
    bundle = json.loads(body)
    if how == "inclusion":
        bundle["entries"][0]["inclusion_proof"][0] = flip_base64(bundle["entries"][0]["inclusion_proof"][0], 77)
    elif how == "signature":
        lines = bundle["checkpoint"].split("\n")
        sig = lines[4].split(" ")
        sig[2] = flip_base64(sig[2], 8 * 4 + 9)
        lines[4] = " ".join(sig)
        bundle["checkpoint"] = "\n".join(lines)
    else:
        raise ValueError(how)
    return json.dumps(bundle).encode()


class Proxy:
    """Forwards every request to the node; records the paths; tampers bundles when told to."""

    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.tamper = None
        self.paths = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                proxy.paths.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "accept-encoding")}
                request = urllib.request.Request(proxy.upstream + self.path, data=data, method=self.command, headers=headers)
                try:
                    with urllib.request.urlopen(request) as r:
                        status, reply_headers, body = r.status, r.headers, r.read()
                except urllib.error.HTTPError as e:
                    status, reply_headers, body = e.code, e.headers, e.read()
                if proxy.tamper and self.path.startswith("/v1/bundles/") and status == 200:
                    body = tamper_bundle(body, proxy.tamper)
                self.send_response(status)
                for k, v in reply_headers.items():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


# MARK: - A minimal W3C WebDriver client


class Browser:
    def __init__(self, artefacts: Path):
        self.artefacts = artefacts
        self.profile = tempfile.mkdtemp(prefix="cinnabar-chromium-")
        port = free_port()
        self.driver = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 20
        while True:
            try:
                if self.call("GET", "/status")["ready"]:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.1)
        # The fake-media switches give the browser a camera (Chromium's synthetic test pattern, through
        # its real capture pipeline) and answer its permission prompt with yes; only the QR-scan
        # scenario opens it.
        capabilities = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:loggingPrefs": {"browser": "ALL"}, "goog:chromeOptions": {
            "binary": shutil.which("chromium"),
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1024,1400",
                     f"--user-data-dir={self.profile}", "--no-first-run", "--disable-extensions",
                     "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
        }}}}
        self.session = self.call("POST", "/session", capabilities)["sessionId"]

    def call(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST" else None)
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return json.loads(r.read())["value"]
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"WebDriver {method} {path}: {e.read().decode()[:500]}") from None

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    def get(self, url):
        self.s("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css):
        return self.s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def click(self, css):
        self.s("POST", f"/element/{self.find(css)}/click")

    def type(self, css, text, clear=True):
        element = self.find(css)
        if clear:
            self.s("POST", f"/element/{element}/clear")
        self.s("POST", f"/element/{element}/value", {"text": text})

    def displayed(self, css):
        """WebDriver's own judgement of whether the element is shown (not hidden, not zero-sized)."""
        return self.s("GET", f"/element/{self.find(css)}/displayed")

    def cdp(self, cmd, params=None):
        """A Chrome DevTools Protocol command, through chromedriver's passthrough."""
        return self.s("POST", "/goog/cdp/execute", {"cmd": cmd, "params": params or {}})

    def text(self, css):
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", css)

    def wait(self, script, *args, timeout=20, what=""):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.js(script, *args)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what or script}")

    def wait_for(self, css, timeout=20):
        return self.wait("return document.querySelector(arguments[0]) !== null;", css, timeout=timeout, what=css)

    def screenshot(self, name):
        png = base64.b64decode(self.s("GET", "/screenshot"))
        (self.artefacts / f"{name}.png").write_bytes(png)

    def full_screenshot(self, name):
        """The whole page: the window is made as tall as the document for the picture."""
        height = self.js("return Math.ceil(document.documentElement.scrollHeight);")
        self.s("POST", "/window/rect", {"width": 1024, "height": min(max(height + 140, 800), 4000)})
        self.screenshot(name)
        self.s("POST", "/window/rect", {"width": 1024, "height": 1400})

    def print_view(self, name):
        """A picture of the page as it prints (CSS print media), for looking at the report."""
        self.s("POST", "/goog/cdp/execute", {"cmd": "Emulation.setEmulatedMedia", "params": {"media": "print"}})
        try:
            self.full_screenshot(name)
        finally:
            self.s("POST", "/goog/cdp/execute", {"cmd": "Emulation.setEmulatedMedia", "params": {"media": ""}})

    def pdf(self, name):
        data = base64.b64decode(self.s("POST", "/print", {"background": True, "pageRanges": []}))
        (self.artefacts / f"{name}.pdf").write_bytes(data)
        return data

    def console(self):
        """The browser console's entries since the last call."""
        return self.s("POST", "/se/log", {"type": "browser"})

    def quit(self):
        try:
            self.s("DELETE", "")
        finally:
            self.driver.terminate()
            self.driver.wait(10)
            shutil.rmtree(self.profile, ignore_errors=True)


# MARK: - Scenarios


class Suite:
    def __init__(self, browser: Browser, proxy: Proxy, node: str, codes: dict, ledger: Path, artefacts: Path):
        self.b, self.proxy, self.node, self.codes, self.ledger, self.artefacts = browser, proxy, node, codes, ledger, artefacts
        self.passed = self.failed = 0

    def run(self, name, scenario):
        started = time.time()
        try:
            scenario()
            self.passed += 1
            print(f"PASS {name} ({time.time() - started:.1f} s)", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported, then the next scenario runs
            self.failed += 1
            print(f"FAIL {name}: {e}", flush=True)
            traceback.print_exc(limit=3)
            try:
                self.b.full_screenshot("FAILED-" + "".join(c if c.isalnum() else "-" for c in name)[:60])
            except Exception:  # noqa: BLE001
                pass

    def open(self, path="/"):
        self.b.get(self.proxy.url + path)
        self.b.wait("return document.body.dataset.ready === 'true';", what="the page to start")

    def choose_language(self, lang):
        self.b.click(f"#language option[value='{lang}']")
        expected = messages(lang).get("code.heading") or messages("zh-Hans")["code.heading"]
        self.b.wait("return document.getElementById('code-heading').textContent === arguments[0];", expected, what=f"{lang} labels")

    def check_code(self, typed):
        self.b.type("#code", typed)
        self.b.click("#check")

    def answer(self, code):
        with urllib.request.urlopen(f"{self.node}/v1/verify/{code}") as r:
            return json.loads(r.read())

    # 1. Languages: Simplified Chinese by default; Tibetan and English change the labels.
    def languages(self):
        self.open()
        zh, bo, en = messages("zh-Hans"), messages("bo"), messages("en")
        assert self.b.text("#code-heading") == zh["code.heading"], "Simplified Chinese by default"
        assert self.b.js("return document.documentElement.lang;") == "zh-Hans"
        self.b.full_screenshot("01-default-zh-Hans")
        self.choose_language("bo")
        for element, key in [("#code-heading", "code.heading"), ("#file-heading", "file.heading"), ("#check", "code.check"), ("#court-heading", "court.heading")]:
            assert self.b.text(element) == bo[key], f"{element} in Tibetan: {self.b.text(element)!r}"
        assert self.b.js("return document.documentElement.lang;") == "bo"
        self.b.full_screenshot("02-tibetan")
        self.choose_language("en")
        for element, key in [("#code-heading", "code.heading"), ("h1", "page.heading"), ("#check", "code.check")]:
            assert self.b.text(element) == en[key], f"{element} in English: {self.b.text(element)!r}"
        # Every control has a label a screen reader can read.
        unlabelled = self.b.js("""return [...document.querySelectorAll('input, select, button')].filter(e =>
            !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).map(e => e.id);""")
        assert unlabelled == [], f"controls without a label: {unlabelled}"

    def expect_valid(self, code):
        """The answer to `code` is VALID, proved on this device, announced, with the code grouped in the field."""
        self.b.wait_for("#proof[data-state='ok']")
        assert self.b.js("return document.querySelector('[data-result]').dataset.result;") == "VALID"
        proof = self.b.text("#proof")
        assert "Checked on this device: 1 of 1 validator signatures, Merkle proof valid." in proof, proof
        assert self.b.js("return document.getElementById('code').value;") == code, "the field shows the code grouped"
        announced = self.b.text("#announce")
        assert announced.startswith("Valid. Checked on this device"), f"the screen-reader announcement: {announced!r}"

    # 2. A valid code, typed with hyphens and in lower case.
    def valid_code(self):
        code = self.codes["notarial-valid"]
        self.check_code(code.lower())
        self.expect_valid(code)
        self.b.full_screenshot("03-valid")

    # 3. A revoked code, typed with spaces and sent with the Enter key: REVOKED, with the date it was revoked.
    def revoked_code(self):
        code = self.codes["notarial-revoked"]
        date = next(h["date"] for h in self.answer(code)["history"] if h["type"] == "DOCUMENT_REVOKED")
        # Keyboard only: type, then Enter.
        self.b.type("#code", code.replace("-", " ") + "\ue007")
        self.b.wait_for("#proof[data-state='ok']")
        assert self.b.js("return document.querySelector('[data-result]').dataset.result;") == "REVOKED"
        status = self.b.text("[data-result]")
        assert date in status and "void from the start" in status, status
        self.b.full_screenshot("04-revoked")

    # 4. A mistyped check character is caught on the device: no request leaves it.
    def mistyped_code(self):
        code = self.codes["notarial-valid"].replace("-", "")
        wrong = code[:15] + ("0" if code[15] != "0" else "1")
        sent = len(self.proxy.paths)
        self.check_code(wrong)
        self.b.wait("return document.getElementById('code-feedback').classList.contains('error');", what="the error")
        time.sleep(0.5)
        assert self.b.text("#code-feedback") == messages("en")["code.error.code_bad_check_character"], self.b.text("#code-feedback")
        assert self.b.js("return document.getElementById('code').getAttribute('aria-invalid');") == "true"
        assert self.proxy.paths[sent:] == [], f"requests were made: {self.proxy.paths[sent:]}"
        self.b.full_screenshot("05-mistyped")

    # 5. A matching and a non-matching file, fingerprinted in the browser.
    def files(self):
        self.check_code(self.codes["notarial-valid"])
        self.b.wait_for("#proof[data-state='ok']")
        folder = Path(tempfile.mkdtemp(prefix="cinnabar-files-"))
        genuine = folder / "certificate-2.pdf"
        genuine.write_bytes(b"certificate-2.pdf")  # the demo's rendition digest is SHA-256 of these bytes
        altered = folder / "certificate-2-altered.pdf"
        altered.write_bytes(b"certificate-2.pdf ")
        sent = len(self.proxy.paths)
        self.b.type("#file", str(genuine), clear=False)
        self.b.wait_for("[data-file]")
        assert self.b.js("return document.querySelector('[data-file]').dataset.file;") == "match", self.b.text("#file-result")
        assert hashlib.sha256(b"certificate-2.pdf").hexdigest() == self.b.text("#file-digest")
        assert "original" in self.b.text("#file-result"), self.b.text("#file-result")
        self.b.full_screenshot("06-file-match")
        self.b.type("#file", str(altered), clear=False)
        self.b.wait("return document.querySelector('[data-file]') && document.querySelector('[data-file]').dataset.file === 'nomatch';", what="no match")
        assert not any("certificate" in p for p in self.proxy.paths[sent:]), "the file went nowhere"
        assert self.proxy.paths[sent:] == [], f"checking a file against a shown code makes no request: {self.proxy.paths[sent:]}"
        self.b.full_screenshot("07-file-nomatch")
        shutil.rmtree(folder)

    # 5b. A file with no code: its fingerprint is looked up (POST /v1/verify), and only the fingerprint is sent.
    def file_without_code(self):
        self.open("/")
        folder = Path(tempfile.mkdtemp(prefix="cinnabar-files-"))
        genuine = folder / "certificate-2.pdf"
        genuine.write_bytes(b"certificate-2.pdf")
        sent = len(self.proxy.paths)
        self.b.type("#file", str(genuine), clear=False)
        self.b.wait_for("[data-file]")
        verdict = self.b.js("return document.querySelector('[data-file]').dataset.file;")
        assert verdict == "match", f"{verdict}: {self.b.text('#file-result')}"
        assert messages("en")["file.lookup.nocode"] in self.b.text("#file-result"), "a fingerprint never reveals a code"
        assert "original" in self.b.text("#file-result"), self.b.text("#file-result")
        assert self.proxy.paths[sent:] == ["/v1/verify"], f"only the fingerprint is sent: {self.proxy.paths[sent:]}"
        self.b.full_screenshot("07b-file-without-code")
        shutil.rmtree(folder)

    # 6. The QR's URL opens the page with the code checked; nothing jumps when the answer arrives.
    def qr_url_and_layout(self):
        code = self.codes["notarial-corrected"]
        self.b.get(self.proxy.url + "/V/" + code.replace("-", ""))
        self.b.js("""window.__cls = 0; new PerformanceObserver(list => { for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value; })
            .observe({ type: 'layout-shift', buffered: true });""")
        self.b.wait_for("#proof[data-state='ok']")
        assert self.b.js("return document.querySelector('[data-result]').dataset.result;") == "VALID_CORRECTED"
        assert self.b.text("#code-heading") == messages("en")["code.heading"], "the language choice is remembered"
        time.sleep(0.3)
        cls = self.b.js("return window.__cls;")
        assert cls < 0.1, f"cumulative layout shift {cls}"
        self.b.full_screenshot("08-qr-url-corrected")

    # 7. A tampered proof from the node's test double is caught, naming the failed check.
    def tampered(self, how, check, code_label):
        def scenario():
            self.proxy.tamper = how
            try:
                self.open("/V/" + self.codes[code_label])
                self.b.wait_for("#proof[data-state='failed']")
                failed = self.b.js("return document.getElementById('proof').dataset.failedCheck;")
                assert failed == check, f"failed check {failed}, expected {check}"
                assert "Check failed on this device" in self.b.text("#proof"), self.b.text("#proof")
                assert self.b.js("return document.querySelector('[data-result]').dataset.confirmed;") == "false", "shown as unconfirmed"
                self.b.full_screenshot(f"09-tampered-{how}")
            finally:
                self.proxy.tamper = None
        return scenario

    # 8. The court view: key-file sign-in, the full history from the node's signed read, one-page report.
    def court(self):
        self.open("/V/" + self.codes["notarial-revoked"])
        self.b.wait_for("#proof[data-state='ok']")
        key = self.ledger / "orgs" / "court.key"
        self.b.type("#keyfile", str(key), clear=False)
        self.b.wait("return document.getElementById('court-status').textContent.startsWith('Signed in as');", what="sign-in")
        assert "11510100MB00000035" in self.b.text("#court-status") or "k1" in self.b.text("#court-status")
        self.b.click("#court-history")
        self.b.wait("return document.querySelector('[data-court], [data-record]') !== null;", what="the history")
        self.b.wait("return !document.getElementById('court-result').textContent.includes(arguments[0]);", messages("en")["court.loading"])
        assert self.b.js("return document.querySelector('[data-court]') === null;"), self.b.text("#court-result")
        rows = self.b.js("return [...document.querySelectorAll('#court-result [data-record]')].map(r => r.textContent);")
        assert len(rows) >= 2 and any("DOCUMENT_REVOKED" in r or "revoked" in r for r in rows), rows
        proven = self.b.js("return [...document.querySelectorAll('#court-result [data-record] td:last-child')].map(td => td.textContent);")
        assert set(proven) == {messages("en")["court.proven"]}, f"every record of the history is proven by the bundle: {proven}"
        self.b.full_screenshot("10-court")
        # What a person's print shows: the page opens every check for the report on 'beforeprint'.
        self.b.js("window.dispatchEvent(new Event('beforeprint'));")
        self.b.print_view("11-report-print-view")
        pdf = self.b.pdf("11-report")
        pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
        assert pages == 1, f"the report is {pages} pages"
        # A key file with the right name but another private key: the node refuses the signature, and the page says so.
        forged = json.loads(key.read_text())
        forged["private_key_multibase"] = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"  # the W3C vector's key
        forged_path = Path(tempfile.mkdtemp(prefix="cinnabar-key-")) / "court.key"
        forged_path.write_text(json.dumps(forged))
        self.b.type("#keyfile", str(forged_path), clear=False)
        self.b.wait("return document.getElementById('court-status').textContent.startsWith('Signed in as');", what="sign-in")
        self.b.click("#court-history")
        self.b.wait("return document.querySelector('[data-court]') !== null;", what="the refusal")
        assert self.b.js("return document.querySelector('[data-court]').dataset.court;") == "SIGNATURE_INVALID"
        assert self.b.text("[data-court]") == messages("en")["court.error.SIGNATURE_INVALID"]
        shutil.rmtree(forged_path.parent)
        self.b.click("#court-signout")
        assert self.b.text("#court-status") == messages("en")["court.signedout"]

    # 9. The README picture (a valid answer in Simplified Chinese), and the page on a phone's screen.
    def readme_picture(self):
        self.choose_language("zh-Hans")
        self.open("/V/" + self.codes["notarial-valid"])
        self.b.wait_for("#proof[data-state='ok']")
        self.b.s("POST", "/window/rect", {"width": 1000, "height": 1480})
        self.b.js("document.getElementById('code').blur(); window.scrollTo(0, 0);")
        self.b.screenshot("12-verification-page")
        self.b.s("POST", "/window/rect", {"width": 400, "height": 860})
        self.b.js("document.getElementById('answer').scrollIntoView();")
        time.sleep(0.2)
        overflow = self.b.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        assert overflow <= 0, f"the page is {overflow} px wider than a phone's screen"
        self.b.screenshot("13-phone")
        self.b.s("POST", "/window/rect", {"width": 1024, "height": 1400})

    # 10. Scanning a document's QR with the camera.
    #
    # Real: Chromium, its media pipeline with a camera (getUserMedia opens Chromium's synthetic test
    # device, --use-fake-device-for-media-stream, with the permission prompt answered yes by
    # --use-fake-ui-for-media-stream), the <video> playing that stream, and the page's own code as
    # served, unchanged: renderScan showing the scan button once the API exists, startScan opening the
    # camera and its detection loop looking past frames without a /V/ URL, stopScan ending the
    # camera's tracks, and the check of the scanned code against the node, proved on this device as
    # if it had been typed. (The Stop button and a refused camera are not exercised here.)
    # Stand-in: BarcodeDetector's image decoding only. Chromium on Linux desktop does not ship the
    # Shape Detection API, so headless Chromium here has no BarcodeDetector at all, and its synthetic
    # camera cannot show a QR anyway. The stand-in, installed before the page's scripts run
    # (Page.addScriptToEvaluateOnNewDocument), is a class with the real one's shape whose detect()
    # answers nothing unless it is given a <video> with a real frame decoded and playing (the test
    # checks it was the page's); it sees no QR until the test holds the document up
    # (window.__qrInView), then answers what a phone's decoder gives for the printed QR: the node's
    # /V/ URL of a valid code, here lower-cased with hyphens. Before that it answers alternately nothing and another QR (https://example.com/),
    # which the page must keep scanning past.
    # Also, without the stand-in: Chromium as it is hides the scan button and says why.
    def qr_scan(self):
        zh, en = messages("zh-Hans"), messages("en")
        code = self.codes["notarial-valid"]
        printed = f"{self.node}/V/{code.lower()}"

        # Without the stand-in: this Chromium has no BarcodeDetector, so no scan button, and the note
        # sends people to their phone's camera app.
        self.open("/")
        self.choose_language("zh-Hans")
        self.open("/")
        assert self.b.js("return !('BarcodeDetector' in window);"), \
            "this Chromium has a BarcodeDetector of its own: the stand-in is no longer needed, scan a real QR instead"
        assert self.b.js("return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);"), "a camera API"
        assert not self.b.displayed("#scan"), "no scan button without BarcodeDetector"
        assert self.b.text("#scan-note") == zh["scan.unsupported"], self.b.text("#scan-note")
        self.b.full_screenshot("14-scan-unsupported")

        self.choose_language("en")
        misses_before_qr = 3
        standin = """(() => {
            const printed = %s;
            window.__detectCalls = 0;   // every call of detect()
            window.__detectMisses = 0;  // calls on a real frame answered without a /V/ URL
            window.__detectHits = 0;    // calls answered with the printed URL
            window.__detectFrame = null;
            window.__qrInView = false;  // set by the test: the document is held up to the camera
            class BarcodeDetector {
                constructor(options = {}) { this.formats = options.formats || []; window.__detectorFormats = this.formats; }
                static async getSupportedFormats() { return ["qr_code"]; }
                async detect(source) {
                    window.__detectCalls += 1;
                    // Only a real, playing video frame can hold a QR.
                    if (!(source instanceof HTMLVideoElement && source.readyState >= 2 && source.videoWidth > 0 && !source.paused)) return [];
                    window.__detectFrame = { id: source.id, width: source.videoWidth, height: source.videoHeight, time: source.currentTime };
                    if (!window.__qrInView) {
                        window.__detectMisses += 1;
                        return window.__detectMisses %% 2 ? [] : [{ rawValue: "https://example.com/", format: "qr_code" }];
                    }
                    window.__detectHits += 1;
                    return [{ rawValue: printed, format: "qr_code" }];
                }
            }
            Object.defineProperty(window, "BarcodeDetector", { value: BarcodeDetector, writable: true, configurable: true });
        })();""" % json.dumps(printed)
        script = self.b.cdp("Page.addScriptToEvaluateOnNewDocument", {"source": standin})["identifier"]
        try:
            self.open("/")
            assert self.b.js("return window.__detectCalls === 0 && typeof BarcodeDetector === 'function';"), "the stand-in is in place"
            assert self.b.displayed("#scan"), "the scan button is shown once the API exists"
            assert self.b.text("#scan") == en["scan.start"], self.b.text("#scan")
            assert self.b.text("#scan-note") == "", self.b.text("#scan-note")
            assert not self.b.displayed("#scanner")

            sent = len(self.proxy.paths)
            self.b.click("#scan")
            self.b.wait("""const v = document.getElementById('scan-video');
                return !document.getElementById('scanner').hidden && v.readyState >= 2 && !v.paused && v.videoWidth > 0
                    && v.srcObject && v.srcObject.getVideoTracks().length === 1 && v.srcObject.getVideoTracks()[0].readyState === 'live';""",
                        what="the camera's video playing in the scanner")
            assert self.b.displayed("#scanner") and self.b.displayed("#scan-video")
            assert self.b.text("#scan-note") == en["scan.looking"], self.b.text("#scan-note")
            # The video plays: its time moves on between two looks.
            first = self.b.js("return document.getElementById('scan-video').currentTime;")
            self.b.wait("return document.getElementById('scan-video').currentTime > arguments[0];", first, what="the video to advance")
            # The page keeps looking through frames with no QR, and past a QR that is not a document's.
            self.b.wait("return window.__detectMisses >= arguments[0];", misses_before_qr, what=f"{misses_before_qr} frames looked at")
            assert self.b.js("return window.__detectorFormats;") == ["qr_code"]
            frame = self.b.js("return window.__detectFrame;")
            assert frame["id"] == "scan-video" and frame["width"] > 0 and frame["height"] > 0, frame
            assert self.b.displayed("#scanner"), "still scanning after frames without a document's QR"
            assert not any(p.startswith("/v1/verify") for p in self.proxy.paths[sent:]), f"nothing checked yet: {self.proxy.paths[sent:]}"
            self.b.full_screenshot("15-scanning")

            # The document's QR comes into view.
            self.b.js("window.__qrInView = true;")
            self.expect_valid(code)
            assert f"/v1/verify/{code.replace('-', '')}" in self.proxy.paths[sent:], self.proxy.paths[sent:]
            assert not self.b.displayed("#scanner"), "the scanner is closed"
            ended = self.b.js("return document.getElementById('scan-video').srcObject.getTracks().map(t => t.readyState);")
            assert ended and set(ended) == {"ended"}, f"the camera's tracks are stopped: {ended}"
            assert self.b.text("#scan-note") == "", self.b.text("#scan-note")
            calls, misses, hits = self.b.js("return [window.__detectCalls, window.__detectMisses, window.__detectHits];")
            assert misses >= misses_before_qr and hits == 1 and calls > misses, f"detect() called {calls} times, {misses} misses, {hits} hits"
            time.sleep(0.6)  # more than the loop's pause: it has stopped
            assert self.b.js("return window.__detectCalls;") == calls, "no detection after the QR was read"
            self.b.full_screenshot("16-scanned-valid")
        finally:
            self.b.cdp("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script})


def console_is_clean(suite):
    """No script error and no Content-Security-Policy violation in the whole run. The only errors
    allowed are the browser's own notes of answers the page expects and handles: the 401 of the
    node refusing a forged key's signature."""
    def scenario():
        expected = ("/v1/history/", "/v1/cases/", "/v1/verify ")
        problems = [e["message"] for e in suite.b.console() if e["level"] == "SEVERE"
                    and not ("Failed to load resource" in e["message"] and any(p in e["message"] + " " for p in expected))]
        assert problems == [], problems
    return scenario


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--codes", required=True)
    parser.add_argument("--ledger", required=True)
    parser.add_argument("--artefacts", required=True)
    args = parser.parse_args()
    for tool in ("chromium", "chromedriver"):
        if not shutil.which(tool):
            print(f"{tool} is missing: install the Debian packages chromium and chromium-driver (make test-deps)")
            print("0 passed, 1 failed")
            return 2
    artefacts = Path(args.artefacts)
    artefacts.mkdir(parents=True, exist_ok=True)
    proxy = Proxy(args.url)
    browser = Browser(artefacts)
    suite = Suite(browser, proxy, args.url.rstrip("/"), json.loads(args.codes), Path(args.ledger), artefacts)
    try:
        suite.run("languages: zh-Hans by default, Tibetan and English change the labels", suite.languages)
        suite.run("a valid code typed with hyphens in lower case is VALID and checked on this device", suite.valid_code)
        suite.run("a revoked code sent with the keyboard is REVOKED with its date", suite.revoked_code)
        suite.run("a mistyped check character is caught before any request", suite.mistyped_code)
        suite.run("a matching and a non-matching file", suite.files)
        suite.run("a file with no code is looked up by its fingerprint only", suite.file_without_code)
        suite.run("the QR URL /V/<code> checks the code, with no layout shift", suite.qr_url_and_layout)
        suite.run("a tampered inclusion proof is detected", suite.tampered("inclusion", "inclusion", "notarial-valid"))
        suite.run("a tampered validator signature is detected", suite.tampered("signature", "checkpoint_signatures", "notarial-revoked"))
        suite.run("court view: key file, full history, one-page report", suite.court)
        suite.run("README picture", suite.readme_picture)
        suite.run("scanning a QR with the camera finds the code and checks it; no scan button without BarcodeDetector", suite.qr_scan)
        suite.run("no script error or CSP violation in the console", console_is_clean(suite))
    finally:
        browser.quit()
        proxy.stop()
    print(f"screenshots in {artefacts}")
    print(f"{suite.passed} passed, {suite.failed} failed")
    return 0 if suite.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
