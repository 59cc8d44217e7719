"""An SMSC for the SMS stories, on the smpp34 simulator server (PyPI).

    python3 smsc.py PORT DIR [--throttle N] [--undeliverable NUMBER]... [--no-receipts]

Accepts binds, answers each submit_sm (the first N with ESME_RTHROTTLED), and writes to DIR:
- submits.jsonl: one line per submit_sm: to, from, data_coding, esm_class, status, id;
- messages.jsonl: one line per whole message, reassembled from its parts by the
  concatenation header and decoded (UCS-2 or the default alphabet): to, text, parts, ids;
- receipts.jsonl: one line per delivery receipt sent: id, stat, and the ESME's answer.
For each accepted part with registered_delivery it sends a receipt (deliver_sm,
esm_class 4, stat DELIVRD, or UNDELIV for an --undeliverable number), and sends it again
every 0.3 s while the ESME answers with an error, up to 30 times.
"""
import asyncio, json, os, sys
import smpp34

port, out = int(sys.argv[1]), sys.argv[2]
args = sys.argv[3:]
throttle = 0
undeliverable = set()
receipts = True
while args:
    a = args.pop(0)
    if a == "--throttle":
        throttle = int(args.pop(0))
    elif a == "--undeliverable":
        undeliverable.add(args.pop(0))
    elif a == "--no-receipts":
        receipts = False
    else:
        sys.exit(f"unknown argument {a}")

def write(name, obj):
    with open(os.path.join(out, name), "a") as f:
        f.write(json.dumps(obj, ensure_ascii=False) + "\n")

sessions = {}
pending_parts = {}
counter = 0

def decode(data_coding, payload):
    if data_coding == 8:
        return payload.decode("utf-16-be")
    return payload.decode("ascii")

async def send_receipt(session_id, to, sender, msg_id):
    stat = "UNDELIV" if to in undeliverable else "DELIVRD"
    state = 5 if stat == "UNDELIV" else 2
    text = f"id:{msg_id} sub:001 dlvr:{'000' if state == 5 else '001'} submit date:2612051200 done date:2612051201 stat:{stat} err:{'001' if state == 5 else '000'} text:"
    for _ in range(30):
        esme = sessions.get(session_id)
        if esme is None:
            await asyncio.sleep(0.3)
            continue
        try:
            resp = await esme.deliver_sm(sender, text.encode(), source_addr=to, esm_class=4,
                tlvs=[smpp34.Tlv(smpp34.TLV_RECEIPTED_MESSAGE_ID, msg_id.encode() + b"\0"),
                      smpp34.Tlv(smpp34.TLV_MESSAGE_STATE, bytes([state]))])
            status = resp.command_status
        except Exception as e:
            status = f"error: {e}"
        write("receipts.jsonl", {"id": msg_id, "stat": stat, "answer": status})
        if status == 0:
            return
        await asyncio.sleep(0.3)

async def main():
    global throttle, counter
    server = smpp34.Server("127.0.0.1", port, system_id="testsmsc")
    await server.start()
    while True:
        ev = await server.next()
        if isinstance(ev, smpp34.Esme):
            sessions[ev.session_id] = ev
            write("binds.jsonl", {"system_id": ev.system_id, "session": ev.session_id})
        elif isinstance(ev, smpp34.Unbound):
            sessions.pop(ev.session_id, None)
        elif isinstance(ev, smpp34.SubmitSmEvent):
            rec = {"to": ev.destination_addr, "from": ev.source_addr, "dest_ton": ev.dest_addr_ton,
                   "data_coding": ev.data_coding, "esm_class": ev.esm_class}
            if throttle > 0:
                throttle -= 1
                ev.reject(smpp34.ESME_RTHROTTLED)
                rec["status"] = "throttled"
                write("submits.jsonl", rec)
                continue
            counter += 1
            msg_id = f"m{counter}"
            ev.accept(msg_id)
            rec.update(status="accepted", id=msg_id)
            write("submits.jsonl", rec)
            sm = ev.short_message
            if ev.esm_class & 0x40:
                udhl = sm[0]
                ref, total, seq = sm[3], sm[4], sm[5]
                key = (ev.destination_addr, ref)
                parts = pending_parts.setdefault(key, {})
                parts[seq] = (sm[udhl + 1:], msg_id)
                if len(parts) == total:
                    del pending_parts[key]
                    ordered = [parts[i] for i in range(1, total + 1)]
                    text = decode(ev.data_coding, b"".join(p for p, _ in ordered))
                    write("messages.jsonl", {"to": ev.destination_addr, "text": text, "parts": total, "ids": [i for _, i in ordered]})
            else:
                write("messages.jsonl", {"to": ev.destination_addr, "text": decode(ev.data_coding, sm), "parts": 1, "ids": [msg_id]})
            if receipts and ev.registered_delivery & 1:
                asyncio.get_running_loop().create_task(send_receipt(ev.session_id, ev.destination_addr, ev.source_addr, msg_id))

asyncio.run(main())
