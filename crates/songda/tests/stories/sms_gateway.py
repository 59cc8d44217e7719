"""An HTTP SMS gateway for the SMS stories, on Python's standard library alone.

    python3 sms_gateway.py PORT DIR SECRET [--unavailable N] [--refuse] [--undeliverable NUMBER]...

Checks each request's signature (HMAC-SHA256 of "TIMESTAMP.BODY" under SECRET, with
Python's hmac module) and writes to DIR:
- requests.jsonl: one line per request: the JSON body and whether the signature held;
- reports.jsonl: one line per delivery report posted back, and the platform's answer.
Answers 401 to a bad signature, 503 to the first N requests (--unavailable), 400 to every
request with --refuse, else 200 {"message_id": "gN"}; then posts a signed report
(delivered, or failed for an --undeliverable number) to the request's callback, again
every 0.3 s while the platform answers 404 (a report that overtook the recording of its
message), up to 30 times.
"""
import hashlib, hmac, json, os, sys, threading, time, urllib.request, urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, out, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
args = sys.argv[4:]
unavailable, refuse, undeliverable = 0, False, set()
while args:
    a = args.pop(0)
    if a == "--unavailable":
        unavailable = int(args.pop(0))
    elif a == "--refuse":
        refuse = True
    elif a == "--undeliverable":
        undeliverable.add(args.pop(0))
    else:
        sys.exit(f"unknown argument {a}")
lock = threading.Lock()
counter = 0

def write(name, obj):
    with lock, open(os.path.join(out, name), "a") as f:
        f.write(json.dumps(obj, ensure_ascii=False) + "\n")

def sign(ts, body):
    return "v1=" + hmac.new(secret, f"{ts}.".encode() + body, hashlib.sha256).hexdigest()

def report(callback, message_id, to):
    time.sleep(0.1)
    status = "failed" if to in undeliverable else "delivered"
    body = json.dumps({"message_id": message_id, "status": status,
                       "error": "UNDELIV 001" if status == "failed" else None,
                       "done_at": "2026-12-05T12:00:00Z"}).encode()
    for _ in range(30):
        ts = str(int(time.time()))
        req = urllib.request.Request(callback, data=body, method="POST", headers={
            "content-type": "application/json", "x-songda-timestamp": ts,
            "x-songda-signature": sign(ts, body)})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                answer = r.status
        except urllib.error.HTTPError as e:
            answer = e.code
        except Exception as e:
            answer = str(e)
        write("reports.jsonl", {"message_id": message_id, "status": status, "answer": answer})
        if answer != 404:
            return
        time.sleep(0.3)

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        global unavailable, counter
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        ts = self.headers.get("x-songda-timestamp", "")
        ok = hmac.compare_digest(sign(ts, body), self.headers.get("x-songda-signature", ""))
        request = json.loads(body)
        write("requests.jsonl", {"body": request, "verified": ok,
                                 "age": abs(time.time() - int(ts or 0))})
        if not ok:
            return self.answer(401, {"error": "bad signature"})
        with lock:
            if unavailable > 0:
                unavailable -= 1
                return self.answer(503, {"error": "try later"})
            counter += 1
            message_id = f"g{counter}"
        if refuse:
            return self.answer(400, {"error": "number not allowed"})
        self.answer(200, {"message_id": message_id})
        threading.Thread(target=report, args=(request["callback"], message_id, request["to"]),
                         daemon=True).start()

ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
