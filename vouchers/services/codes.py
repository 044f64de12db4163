"""Redeem codes: generated Crockford codes, and codes from the business's own POS (pools)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.services import card_touch
from tenants.codes import format_code, generate_code, normalize_code
from vouchers.errors import VoucherError
from vouchers.locks import lock_free_pool_code
from vouchers.models import CodeImport, CodePool, PoolCode, Voucher, VoucherTemplate

POOL_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _\-]{2,62}[A-Za-z0-9]$")
MAX_IMPORT_ROWS = 100_000
CHUNK = 1000


def normalize_pool_code(raw: str) -> str:
    """POS codes keep their own alphabet: upper-case, spaces and hyphens dropped."""
    return re.sub(r"[\s\-]", "", raw.strip().upper())


def lookup_variants(raw: str) -> list[str]:
    """What a typed or scanned code may be stored as: generated (Crockford) or POS form."""
    return list(dict.fromkeys([normalize_code(raw), normalize_pool_code(raw)]))


def assign_code(*, voucher: Voucher) -> None:
    """Gives a redeem-code voucher its code: generated, or the next one from its POS pool.

    With an empty pool the voucher is marked as awaiting a code; it gets one when codes arrive.
    """
    template = voucher.template
    if template.code_source == VoucherTemplate.CodeSource.POOL and template.pool_id:
        pool_code = lock_free_pool_code(template.pool)  # type: ignore[arg-type]
        if pool_code is None:
            voucher.awaiting_code = True
            voucher.save(update_fields=["awaiting_code"])
            return
        _attach(voucher, pool_code)
        return
    for _attempt in range(8):
        code = generate_code()
        try:
            with transaction.atomic():
                Voucher.objects.filter(pk=voucher.pk).update(
                    code=code, code_display=format_code(code)
                )
        except IntegrityError:  # 50 bits: a clash is rare, but the constraint decides
            continue
        voucher.code, voucher.code_display = code, format_code(code)
        return
    raise VoucherError(_("Could not generate a unique code."), "code_generation_failed", 500)


def _attach(voucher: Voucher, pool_code: PoolCode) -> None:
    pool_code.voucher = voucher
    pool_code.allocated_at = timezone.now()
    pool_code.save(update_fields=["voucher", "allocated_at"])
    voucher.code, voucher.code_display, voucher.awaiting_code = (
        pool_code.code,
        pool_code.display,
        False,
    )
    voucher.save(update_fields=["code", "code_display", "awaiting_code"])


@transaction.atomic
def pool_fill_waiting(*, pool: CodePool) -> int:
    """Hands newly arrived codes to the vouchers that waited for them, oldest first."""
    waiting = (
        Voucher.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(template__pool=pool, awaiting_code=True)
        .exclude(state__in=[Voucher.State.VOID, Voucher.State.EXPIRED])
        .select_related("card")
        .order_by("issued_at", "id")
    )
    filled = 0
    for voucher in waiting:
        pool_code = lock_free_pool_code(pool)
        if pool_code is None:
            break
        _attach(voucher, pool_code)
        card_touch(card=voucher.card)
        filled += 1
    return filled


def parse_code_rows(content: str) -> list[tuple[int, str]]:
    """(line number, first cell) of each non-empty row; a 'code' header row is skipped."""
    rows: list[tuple[int, str]] = []
    sample = content[:2048]
    try:
        dialect: Any = (
            csv.Sniffer().sniff(sample, delimiters=",;\t")
            if "," in sample or ";" in sample or "\t" in sample
            else csv.excel
        )
    except csv.Error:
        dialect = csv.excel
    for line_no, row in enumerate(csv.reader(io.StringIO(content), dialect), start=1):
        cell = (row[0] if row else "").strip()
        if not cell:
            continue
        if line_no == 1 and cell.lower() in {"code", "codes", "coupon", "voucher"}:
            continue
        rows.append((line_no, cell))
    return rows


def _existing_codes(tenant_id: int, codes: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(codes), CHUNK):
        chunk = codes[start : start + CHUNK]
        found.update(
            PoolCode.objects.filter(tenant_id=tenant_id, code__in=chunk).values_list(
                "code", flat=True
            )
        )
        found.update(
            Voucher.objects.filter(tenant_id=tenant_id, code__in=chunk).values_list(
                "code", flat=True
            )
        )
    return found


def decode_upload(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise VoucherError(_("The file is not a text (CSV) file."), "invalid_file", 400)


@transaction.atomic
def code_import_check(
    *,
    pool: CodePool,
    content: str,
    kind: str = CodeImport.Kind.CODES,
    filename: str = "",
    actor: Any = None,
) -> CodeImport:
    """Validates every row (format, duplicates in the file and against the business's codes)
    and records the result; nothing is imported until it is confirmed."""
    rows = parse_code_rows(content)
    if not rows:
        raise VoucherError(_("The file has no codes."), "empty_file", 400)
    if len(rows) > MAX_IMPORT_ROWS:
        raise VoucherError(
            _("At most %(n)d codes per file.") % {"n": MAX_IMPORT_ROWS}, "too_many_rows", 400
        )
    errors: list[dict[str, Any]] = []
    valid: list[tuple[str, str, int]] = []
    first_seen: dict[str, int] = {}
    for line_no, cell in rows:
        if kind == CodeImport.Kind.CODES and not POOL_CODE_RE.match(cell):
            errors.append(
                {
                    "line": line_no,
                    "code": cell[:70],
                    "error": _("Use 4 to 64 letters, digits, spaces, hyphens or underscores."),
                }
            )
            continue
        code = normalize_pool_code(cell)
        if code in first_seen:
            errors.append(
                {
                    "line": line_no,
                    "code": cell[:70],
                    "error": _("Duplicate of line %(line)d.") % {"line": first_seen[code]},
                }
            )
            continue
        first_seen[code] = line_no
        valid.append((code, cell.strip(), line_no))
    if kind == CodeImport.Kind.CODES:
        taken = _existing_codes(pool.tenant_id, [code for code, _display, _line in valid])
        if taken:
            kept: list[tuple[str, str, int]] = []
            for code, display, line_no in valid:
                if code in taken:
                    errors.append(
                        {"line": line_no, "code": display, "error": _("Already in your codes.")}
                    )
                else:
                    kept.append((code, display, line_no))
            valid = kept
    errors.sort(key=lambda e: e["line"])
    return CodeImport.objects.create(
        tenant_id=pool.tenant_id,
        pool=pool,
        kind=kind,
        filename=filename[:200],
        total_rows=len(rows),
        valid_rows=len(valid),
        errors=errors,
        codes=[[code, display] for code, display, _line in valid],
        created_by=actor if getattr(actor, "pk", None) else None,
    )


@transaction.atomic
def code_import_confirm(
    *, code_import: CodeImport, import_valid_rows: bool, run_async: bool = True
) -> CodeImport:
    """Starts the import. A file with errors imports nothing unless the owner chose
    "import the valid rows"."""
    code_import = CodeImport.objects.select_for_update().get(pk=code_import.pk)
    if code_import.status != CodeImport.Status.CHECKED:
        raise VoucherError(_("This upload was already handled."), "import_handled", 409)
    if code_import.errors and not import_valid_rows:
        code_import.status = CodeImport.Status.REJECTED
        code_import.finished_at = timezone.now()
        code_import.save(update_fields=["status", "finished_at"])
        return code_import
    code_import.status = CodeImport.Status.RUNNING
    code_import.save(update_fields=["status"])
    if not run_async:
        return code_import
    from vouchers.tasks import run_code_import

    transaction.on_commit(
        lambda: run_code_import.apply_async(
            kwargs={"tenant_id": code_import.tenant_id, "import_id": code_import.pk}
        )
    )
    return code_import


def code_import_run(*, code_import: CodeImport) -> CodeImport:
    """Imports in chunks, saving progress after each so the dashboard can show it."""
    if code_import.status != CodeImport.Status.RUNNING:
        return code_import
    codes = code_import.codes
    start = code_import.processed
    for offset in range(start, len(codes), CHUNK):
        chunk = codes[offset : offset + CHUNK]
        with transaction.atomic():
            if code_import.kind == CodeImport.Kind.CODES:
                created = PoolCode.objects.bulk_create(
                    [
                        PoolCode(
                            tenant_id=code_import.tenant_id,
                            pool_id=code_import.pool_id,
                            code=code,
                            display=display,
                        )
                        for code, display in chunk
                    ],
                    ignore_conflicts=True,
                )
                code_import.imported += len(created)
            else:
                code_import.imported += _mark_used(code_import, chunk, offset)
            code_import.processed = offset + len(chunk)
            code_import.save(update_fields=["processed", "imported", "errors"])
    if code_import.kind == CodeImport.Kind.CODES:
        pool_fill_waiting(pool=code_import.pool)
    code_import.status = CodeImport.Status.DONE
    code_import.finished_at = timezone.now()
    code_import.save(update_fields=["status", "finished_at"])
    return code_import


def _mark_used(code_import: CodeImport, chunk: list[list[str]], offset: int) -> int:
    """Codes the POS reports as used: their vouchers are redeemed through the one service."""
    from redemption.services import RedemptionRefused, voucher_redeem_by_import

    done = 0
    for code, display in chunk:
        voucher = Voucher.objects.filter(tenant_id=code_import.tenant_id, code=code).first()
        if voucher is None:
            code_import.errors.append(
                {"line": None, "code": display, "error": _("No voucher has this code.")}
            )
            continue
        try:
            voucher_redeem_by_import(voucher=voucher, actor=code_import.created_by)
        except RedemptionRefused as refusal:
            code_import.errors.append({"line": None, "code": display, "error": refusal.message})
            continue
        done += 1
    return done


@transaction.atomic
def code_pool_create(*, tenant: Any, name: str, low_threshold: int = 20) -> CodePool:
    return CodePool.objects.create(tenant=tenant, name=name.strip(), low_threshold=low_threshold)
