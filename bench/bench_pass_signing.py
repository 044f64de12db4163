"""Time to build and sign one .pkpass with cached images (target: median under 2 ms).

Run: ``python bench/bench_pass_signing.py [iterations]``. Prints figures; asserts nothing.
The development certificate chain (RSA 2048, like Apple's pass certificates) is generated in
a temporary directory; strip and icon PNGs are warmed first, as they are in a running server
(they are lru_cached per design and stamp count).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wallet.passkit.certs import load_dev_signing_material  # noqa: E402
from wallet.passkit.package import (  # noqa: E402
    PassField,
    PassVoucher,
    build_pkpass,
    build_store_card_pass_json,
)
from wallet.passkit.signing import sign_manifest  # noqa: E402
from wallet.passkit.strip import default_icon_files, strip_files  # noqa: E402

DESIGN = {"bg_hex": "#1f2937", "fg_hex": "#ffffff", "stamp_hex": "#f59e0b"}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main(iterations: int = 2000) -> None:
    with tempfile.TemporaryDirectory() as directory:
        material = load_dev_signing_material(directory)
        goal = 10
        for filled in range(goal + 1):  # warm the image caches
            strip_files(goal=goal, filled=filled, **DESIGN)
        default_icon_files()

        build_times: list[float] = []
        sign_times: list[float] = []
        sizes: list[int] = []
        for i in range(iterations):
            stamps = i % (goal + 1)
            started = time.perf_counter()
            pass_json = build_store_card_pass_json(
                pass_type_identifier=material.pass_type_identifier or "pass.dev.stampwise",
                serial_number=f"card-{i:08d}",
                team_identifier=material.team_identifier or "DEVTEAM000",
                organization_name="Demo Café",
                description="Demo Café stamp card",
                authentication_token="t" * 32,
                web_service_url="https://stampwise.example/passkit",
                background_color=DESIGN["bg_hex"],
                foreground_color=DESIGN["fg_hex"],
                label_color="#cbd5e1",
                logo_text="Demo Café",
                barcode_message=f"https://stampwise.example/card/{i:08d}/",
                stamps=stamps,
                goal=goal,
                primary_fields=[PassField("reward", "Reward", "Free coffee")],
                back_fields=[PassField("terms", "Terms", "One stamp per visit.")],
                vouchers=[PassVoucher("v1", "Free coffee", "ABCDE-12345")] if stamps == 0 else [],
            )
            files = strip_files(goal=goal, filled=stamps, **DESIGN)
            pkpass = build_pkpass(pass_json, files, material)
            build_times.append(time.perf_counter() - started)
            sizes.append(len(pkpass))

            manifest = b'{"icon.png":"' + b"0" * 40 + b'","pass.json":"' + b"1" * 40 + b'"}'
            started = time.perf_counter()
            sign_manifest(manifest, material)
            sign_times.append(time.perf_counter() - started)

    ms = 1000.0
    median = statistics.median(build_times) * ms
    print(f"pass build+sign, {iterations} iterations (cached images, RSA-2048 dev certificate)")
    print(f"  median   {median:7.3f} ms   (target < 2 ms: {'met' if median < 2 else 'NOT met'})")
    print(f"  p95      {percentile(build_times, 0.95) * ms:7.3f} ms")
    print(f"  p99      {percentile(build_times, 0.99) * ms:7.3f} ms")
    print(f"  mean     {statistics.fmean(build_times) * ms:7.3f} ms")
    print(f"  of which PKCS#7 signing alone: median {statistics.median(sign_times) * ms:.3f} ms")
    print(f"  passes/second on one core: {1 / statistics.median(build_times):,.0f}")
    print(f"  .pkpass size: median {int(statistics.median(sizes)):,} bytes")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
