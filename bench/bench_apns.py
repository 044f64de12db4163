"""APNs pushes per second from one process to the local HTTP/2 stand-in (target > 1,000/s).

Run: ``python bench/bench_apns.py [pushes]``. Prints figures; asserts nothing.

The stand-in (``tests/wallet/apns_server.py``: TLS, h2, provider-token checks) runs in a
separate process so it does not share the client's interpreter lock; all traffic stays on
127.0.0.1 and the run is bounded by the push count. The client uses token auth, as
production would, over its one persistent HTTP/2 connection (``h2`` directly; see the
``wallet.apns`` docstring for the figures that chose it over httpx).
"""

from __future__ import annotations

import multiprocessing
import secrets
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from tests.wallet.apns_server import ApnsStandIn, make_tls_files  # noqa: E402
from wallet.apns import ApnsClient, ApnsConfig, TokenAuth  # noqa: E402

KEY_ID = "BENCHKEY01"
TEAM_ID = "DEVTEAM000"
TOPIC = "pass.dev.stampwise"


def serve(conn: Connection, tls_dir: str, public_key_pem: bytes) -> None:
    """Child process: run the stand-in until told to stop; answer stats requests."""
    public_key = serialization.load_pem_public_key(public_key_pem)
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise SystemExit("the provider key must be an EC key")
    tls = make_tls_files(Path(tls_dir))
    server = ApnsStandIn(
        tls, token_public_key=public_key, key_id=KEY_ID, team_id=TEAM_ID, record=False
    ).start()
    conn.send((server.port, str(tls.ca_path)))
    while True:
        command = conn.recv()
        if command == "stats":
            conn.send((server.connections_opened, server.responses_sent, time.process_time()))
        else:
            break
    server.stop()


def main(pushes: int = 20_000) -> None:
    with tempfile.TemporaryDirectory() as directory:
        key = ec.generate_private_key(ec.SECP256R1())
        key_path = Path(directory) / f"AuthKey_{KEY_ID}.p8"
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        parent, child = multiprocessing.Pipe()
        process = multiprocessing.get_context("spawn").Process(
            target=serve, args=(child, str(Path(directory) / "tls"), public_pem), daemon=True
        )
        process.start()
        try:
            port, ca_path = parent.recv()
            client = ApnsClient(
                ApnsConfig(
                    auth=TokenAuth(key_path=str(key_path), key_id=KEY_ID, team_id=TEAM_ID),
                    host=f"https://127.0.0.1:{port}",
                    verify=ca_path,
                )
            )
            try:
                warm = client.send_many([secrets.token_hex(32) for _ in range(500)], TOPIC)
                if not all(r.ok for r in warm):
                    raise SystemExit(f"warm-up pushes failed: {warm[:3]}")

                sequential_count = min(1000, pushes)
                started = time.perf_counter()
                for _ in range(sequential_count):
                    client.send_pass_update(secrets.token_hex(32), TOPIC)
                sequential = time.perf_counter() - started

                tokens = [secrets.token_hex(32) for _ in range(pushes)]
                parent.send("stats")
                server_cpu_before = parent.recv()[2]
                started, cpu_started = time.perf_counter(), time.process_time()
                results = client.send_many(tokens, TOPIC)
                batched = time.perf_counter() - started
                client_cpu = time.process_time() - cpu_started
            finally:
                client.close()
            parent.send("stats")
            connections, responses, server_cpu_after = parent.recv()
            server_cpu = server_cpu_after - server_cpu_before
        finally:
            parent.send("stop")
            process.join(timeout=10)

    ok = sum(r.ok for r in results)
    print(f"APNs pushes to the local HTTP/2 stand-in (TLS, token auth, {ok:,}/{pushes:,} ok)")
    print(
        f"  send_many, {pushes:,} pushes:       {pushes / batched:9,.0f} pushes/s   "
        f"(target > 1,000/s: {'met' if pushes / batched > 1000 else 'NOT met'})"
    )
    print(
        f"  send_pass_update one at a time: {sequential_count / sequential:9,.0f} pushes/s   "
        f"({sequential / sequential_count * 1000:.2f} ms per push, round trip)"
    )
    client_us, server_us = client_cpu / pushes * 1e6, server_cpu / pushes * 1e6
    print(
        f"  CPU per push in send_many: client {client_us:,.0f} us "
        f"(= {1e6 / client_us:,.0f} pushes/s per fully available core), "
        f"stand-in server {server_us:,.0f} us"
    )
    print(f"  TLS connections opened by the client: {connections} ({responses:,} responses)")
    print(f"  streams in flight from send_many: up to {client.config.max_concurrency}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
