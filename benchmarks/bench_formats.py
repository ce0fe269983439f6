"""Statement parsers at real size: each parser against the stdlib csv floor, and at 4n against n.

For each format a seeded generator writes a statement of N detail rows in the
real layout to a temporary file. The parser reads it from a file object
(streaming), and the *floor* is a plain ``csv.reader`` loop over the same file
that touches the same cells (every cell of every row, the backtick stripped
where the format has one) and does nothing else. Both are timed in the same
run, best of ``REPEAT``, and the ratio parser / floor is reported (target
<= 3). The scaling check times the parser at N/4 and N: time(N) / time(N/4)
should stay near 4 (target <= 5), i.e. no pass is worse than linear.

``python -m benchmarks formats`` runs N = 200,000;
``python -m benchmarks.bench_formats --rows 50000 --only wechatpay`` runs less.
"""

from __future__ import annotations

import argparse
import csv
import gc
import random
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from refundcore.formats import ParseResult, parse_wechatpay

ROWS = 200_000
SEED = 20261204
#: Each timing is the best of this many runs: the machine is shared.
REPEAT = 3
RATIO_TARGET = 3.0
SCALING_TARGET = 5.0

WECHAT_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
    "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)


def wechatpay_bill(n: int, *, seed: int = SEED) -> str:
    """A WeChat Pay ALL bill of ``n`` detail rows: about 90% payments, 10% refunds."""
    rng = random.Random(seed)
    lines = [WECHAT_HEADER]
    settled = refunded = fees = Decimal(0)
    refunds = 0
    for i in range(n):
        second = i * 86_400 // n
        when = f"2026-10-08 {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
        cents = rng.randrange(100, 100_000)
        amount = Decimal(cents).scaleb(-2)
        fee = (amount * Decimal("0.006")).quantize(Decimal("0.00001"))
        order = f"42000{i:023d}"
        name = "挂耳咖啡, 单包" if i % 50 == 0 else "手冲壶 600ml"
        if i % 10 == 9:
            refunds += 1
            cells = [when, "wx0a1b2c3d4e5f6a7b", "1900012345", "0", "", order, f"RC{i:012d}",
                     "oRcTest_buyer", "JSAPI", "REFUND", "CMB_DEBIT", "CNY", "0.00", "0.00",
                     f"50300{i:023d}", f"RF{i:012d}", str(amount), "0.00", "ORIGINAL",
                     "SUCCESS", name, "", str(-fee), "0.60%", "0.00", str(amount), ""]
            refunded += amount
            fees -= fee
        else:
            cells = [when, "wx0a1b2c3d4e5f6a7b", "1900012345", "0", "", order, f"RC{i:012d}",
                     "oRcTest_buyer", "JSAPI", "SUCCESS", "CMB_DEBIT", "CNY", str(amount), "0.00",
                     "0", "0", "0.00", "0.00", "", "", name, "store=SH01", str(fee), "0.60%",
                     str(amount), "0.00", ""]
            settled += amount
            fees += fee
        lines.append(",".join(f'"`{c}"' if "," in c else f"`{c}" for c in cells))
    lines.append("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
                 "申请退款总金额")
    lines.append(f"`{n}.0,`{settled},`{refunded},`0.00,`{fees},`{settled},`{refunded}")
    return "\r\n".join(lines) + "\r\n"


def _floor_backticks(path: Path) -> int:
    """The floor: read every row with csv.reader and strip each cell's backtick."""
    touched = 0
    with path.open(encoding="utf-8", newline="") as file:
        for row in csv.reader(file):
            touched += len([cell[1:] for cell in row])
    return touched


def _parse_file(parse: Callable[..., ParseResult], path: Path) -> ParseResult:
    with path.open(encoding="utf-8", newline="") as file:
        return parse(file)


#: name -> (make a statement of n rows, parse, floor, lines expected per row)
FORMATS: dict[str, tuple[Callable[[int], str], Callable[..., ParseResult],
                         Callable[[Path], int]]] = {
    "wechatpay": (wechatpay_bill, parse_wechatpay, _floor_backticks),
}


def _best(run: Callable[[], Any]) -> tuple[float, Any]:
    best = float("inf")
    result: Any = None
    for _ in range(REPEAT):
        result = None  # free the previous result outside the timed region
        gc.collect()
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def measure(name: str, rows: int, folder: Path) -> tuple[float, float]:
    """Time one format at ``rows`` and ``rows // 4``; print and return (ratio, scaling)."""
    make, parse, floor = FORMATS[name]
    big = folder / f"{name}_{rows}.csv"
    small = folder / f"{name}_{rows // 4}.csv"
    big.write_text(make(rows), encoding="utf-8", newline="")
    small.write_text(make(rows // 4), encoding="utf-8", newline="")
    floor_seconds, _ = _best(lambda: floor(big))
    parse_seconds, result = _best(lambda: _parse_file(parse, big))
    small_seconds, small_result = _best(lambda: _parse_file(parse, small))
    assert not result.rejected, result.rejected[:3]
    assert not small_result.rejected, small_result.rejected[:3]
    ratio = parse_seconds / floor_seconds
    scaling = parse_seconds / small_seconds
    print(f"{name}: {rows:,} rows -> {len(result.lines):,} lines; parse {parse_seconds:.2f} s, "
          f"csv floor {floor_seconds:.2f} s, ratio {ratio:.2f} (target <= {RATIO_TARGET:g}); "
          f"{rows // 4:,} rows {small_seconds:.2f} s, 4n/n {scaling:.2f} "
          f"(target <= {SCALING_TARGET:g})")
    return ratio, scaling


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_formats")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--only", action="append", choices=sorted(FORMATS))
    args = parser.parse_args(sys.argv[1:] if argv is None and __name__ == "__main__" else
                             argv or [])
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only or sorted(FORMATS):
            results[name] = measure(name, args.rows, Path(folder))
    for name, (ratio, scaling) in results.items():
        verdict = "met" if ratio <= RATIO_TARGET and scaling <= SCALING_TARGET else "NOT met"
        print(f"{name}: targets {verdict} (ratio {ratio:.2f}, 4n/n {scaling:.2f})")


if __name__ == "__main__":
    main()
