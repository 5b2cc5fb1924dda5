"""Payment-instrument extraction: megabytes of text per second through extraction and validation.

    OMP_NUM_THREADS=1 .venv/bin/python bench/finance_extract.py [--megabytes 20] [--quick]

1. Generate ``--megabytes`` of posts (UTF-8 bytes) in English, Arabic, French, Russian and
   Indonesian: sentences of ordinary prose (with hex hashes, long words, numbers and prices that
   must not come out), about one post in three carrying planted instruments: crypto addresses of
   btc (P2PKH, P2SH, bech32, taproot), evm (EIP-55), trx, ltc, doge, xmr, made by bip-utils
   encoders from seeded keys; IBANs (schwifty, printed in groups of four); payment links;
   mobile-money numbers; and decoys (a planted value with one character changed). A fifth of the
   planted crypto addresses are obfuscated: Cyrillic look-alikes, full-width digits or a
   zero-width space inside. Seeded: every run generates the same text.
2. Bastion: ``extract_instruments`` on each post; MB/s, and recall of the planted instruments
   (plain and obfuscated apart); decoys reported are counted (must be 0).
3. The reference: a straightforward per-chain regex scan of the raw post (one compiled regex per
   format: base58 P2PKH/P2SH, bech32, 0x+40 hex, TRON, Litecoin, Dogecoin, Monero, compact IBAN),
   each candidate validated with bip-utils' decoder for its chain (schwifty for IBANs); no
   folding. Its recall is counted over the same planted instruments.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version

import bip_utils as bu
from machine import describe
from schwifty import IBAN

from bastion.finance.extract import extract_instruments

FILLER = {
    "en": [
        "The brothers in the camps need winter clothes and food before the snow comes.",
        "Share this message with everyone you trust and delete it after reading.",
        "Commit 3f786850e387550fdab836ed7e6dc881de23001b fixed the uploader last week.",
        "Prices went up again: 25 kg of flour now costs 40 dollars, rice 18.",
        "Antidisestablishmentarianism is a long word but not an address.",
        "Our channel was deleted again, follow the backup for news and videos.",
        "Call the office on Monday between 9 and 12 if you have questions.",
    ],
    "ar": [
        "إخوانكم في المخيمات بحاجة إلى الملابس الشتوية والطعام قبل أن يأتي الثلج.",
        "انشروا هذه الرسالة بين من تثقون بهم واحذفوها بعد القراءة.",
        "ارتفعت الأسعار مرة أخرى، كيس الطحين بأربعين دولاراً.",
        "تم حذف القناة مرة أخرى، تابعوا القناة الاحتياطية للأخبار والإصدارات.",
        "جزاكم الله خيراً على دعمكم المستمر لإخوانكم.",
    ],
    "fr": [
        "Nos frères dans les camps ont besoin de vêtements chauds et de nourriture.",
        "Partagez ce message avec des personnes de confiance puis supprimez-le.",
        "Les prix ont encore augmenté : le sac de farine coûte maintenant 40 euros.",
        "La chaîne a encore été supprimée, suivez la chaîne de secours.",
    ],
    "ru": [
        "Братьям в лагерях нужна тёплая одежда и еда до прихода снега.",
        "Поделитесь этим сообщением с теми, кому доверяете, и удалите его.",
        "Цены снова выросли: мешок муки теперь стоит 40 долларов.",
        "Канал снова удалили, подписывайтесь на резервный канал.",
    ],
    "id": [
        "Saudara kita di kamp membutuhkan pakaian hangat dan makanan sebelum musim dingin.",
        "Bagikan pesan ini kepada orang yang kamu percaya lalu hapus setelah membaca.",
        "Harga naik lagi, sekarung tepung sekarang 40 dolar.",
        "Saluran kami dihapus lagi, ikuti saluran cadangan untuk berita.",
    ],
}
LEAD = {
    "en": ["Donate BTC:", "Send USDT (TRC20) to", "ETH wallet:", "Support us:", "Bank transfer:"],
    "ar": [
        "تبرعوا بالبيتكوين:",
        "أرسلوا التيثر إلى",
        "محفظة الإيثريوم:",
        "ادعمونا:",
        "حوالة بنكية:",
    ],
    "fr": [
        "Dons en BTC :",
        "Envoyez des USDT à",
        "Portefeuille ETH :",
        "Soutenez-nous :",
        "Virement :",
    ],
    "ru": ["Биткоин:", "USDT (TRC20) на", "Кошелёк ETH:", "Поддержите нас:", "Перевод на счёт:"],
    "id": ["Donasi BTC:", "Kirim USDT ke", "Dompet ETH:", "Dukung kami:", "Transfer bank:"],
}
LINKS = [
    ("paypal", "https://paypal.me/{h}"),
    ("gofundme", "https://www.gofundme.com/f/{h}"),
    ("launchgood", "launchgood.com/campaign/{h}"),
    ("patreon", "https://www.patreon.com/{h}"),
    ("kofi", "ko-fi.com/{h}"),
]
PHONES = [("M-Pesa", "07{d}", "+2547{d}"), ("EVC Plus", "061{d7}", "+25261{d7}")]
CYRILLIC = str.maketrans({"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х"})
FULL_WIDTH = str.maketrans({str(d): chr(0xFF10 + d) for d in range(10)})


def _addresses(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    """(scheme, canonical value, as written) made by bip-utils encoders from seeded keys."""
    made: list[tuple[str, str, str]] = []
    for index in range(count):
        secret = hashlib.sha256(f"bench-{index}".encode()).digest()
        key = bu.Secp256k1PrivateKey.FromBytes(secret).PublicKey()
        kind = index % 10
        if kind == 0:
            address = bu.P2PKHAddrEncoder.EncodeKey(key, net_ver=b"\x00")
            made.append(("btc", address, address))
        elif kind == 1:
            address = bu.P2SHAddrEncoder.EncodeKey(key, net_ver=b"\x05")
            made.append(("btc", address, address))
        elif kind == 2:
            address = bu.P2WPKHAddrEncoder.EncodeKey(key, hrp="bc", wit_ver=0)
            made.append(("btc", address, address))
        elif kind == 3:
            address = bu.P2TRAddrEncoder.EncodeKey(key, hrp="bc")
            made.append(("btc", address, address))
        elif kind in (4, 5):
            address = bu.EthAddrEncoder.EncodeKey(key)
            made.append(("evm", address.lower(), address))
        elif kind == 6:
            address = bu.TrxAddrEncoder.EncodeKey(key)
            made.append(("trx", address, address))
        elif kind == 7:
            address = bu.P2PKHAddrEncoder.EncodeKey(key, net_ver=b"\x30")
            made.append(("ltc", address, address))
        elif kind == 8:
            address = bu.P2PKHAddrEncoder.EncodeKey(key, net_ver=b"\x1e")
            made.append(("doge", address, address))
        else:
            monero = bu.Monero.FromSeed(secret)
            address = str(monero.PrimaryAddress())
            made.append(("xmr", address, address))
    rng.shuffle(made)
    return made


def _ibans(count: int) -> list[str]:
    banks = ["37040044", "10010010", "50010517", "20041010"]
    made = []
    for index in range(count):
        bank = banks[index % len(banks)]
        iban = IBAN.generate("DE", bank_code=bank, account_code=f"{1000000 + index * 7919:010d}")
        made.append(iban.compact)
    return made


def _obfuscate(rng: random.Random, written: str) -> str:
    choice = rng.randrange(3)
    if choice == 0 and any(c in written for c in "aeopcx"):
        return written.translate(CYRILLIC)
    if choice == 1 and any(c.isdigit() for c in written):
        return written.translate(FULL_WIDTH)
    cut = len(written) // 2
    return written[:cut] + "\u200b" + written[cut:]


def _decoy(rng: random.Random, written: str) -> str:
    position = rng.randrange(len(written) // 3, len(written) - 2)
    alphabet = "23456789abcdefghijkmnpqrstuvwxyz"
    replacement = rng.choice([c for c in alphabet if c != written[position].lower()])
    return written[:position] + replacement + written[position + 1 :]


Planted = list[tuple[str, str, str]]  # (category, scheme, value)


def generate(megabytes: float, seed: int = 7) -> list[tuple[str, Planted, list[str]]]:
    """Posts, each with its planted instruments and its decoys (as written)."""
    rng = random.Random(seed)
    addresses = _addresses(rng, 600)
    ibans = _ibans(200)
    posts: list[tuple[str, Planted, list[str]]] = []
    size = 0
    target = int(megabytes * 1_000_000)
    while size < target:
        language = rng.choice(list(FILLER))
        sentences = [rng.choice(FILLER[language]) for _ in range(rng.randint(3, 12))]
        planted: Planted = []
        decoys: list[str] = []
        if rng.random() < 0.35:
            for _ in range(rng.randint(1, 3)):
                lead = rng.choice(LEAD[language])
                roll = rng.random()
                if roll < 0.55:
                    scheme, value, written = rng.choice(addresses)
                    category = "crypto"
                    if rng.random() < 0.2:
                        written = _obfuscate(rng, written)
                        category = "crypto_obfuscated"
                    planted.append((category, scheme, value))
                elif roll < 0.7:
                    value = rng.choice(ibans)
                    written = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
                    planted.append(("iban", "iban", value))
                elif roll < 0.85:
                    scheme, template = rng.choice(LINKS)
                    handle = f"fund{rng.randrange(10_000)}"
                    written = template.format(h=handle)
                    planted.append(("link", scheme, handle))
                else:
                    word, local, e164 = rng.choice(PHONES)
                    digits = f"{rng.randrange(10**8):08d}"
                    d7 = digits[:7]
                    written = f"{word} {local.format(d=digits, d7=d7)}"
                    planted.append(("phone", "phone", e164.format(d=digits, d7=d7)))
                sentences.insert(rng.randrange(len(sentences) + 1), f"{lead} {written}")
            if rng.random() < 0.5:
                _, _, written = rng.choice(addresses)
                decoy = _decoy(rng, written)
                decoys.append(decoy)
                sentences.append(decoy)
        text = " ".join(sentences)
        posts.append((text, planted, decoys))
        size += len(text.encode("utf-8"))
    return posts


# --- the reference: per-chain regexes + bip-utils, no folding -------------------------------

B58 = "[1-9A-HJ-NP-Za-km-z]"


def _decoder(function: Callable[[str], object]) -> Callable[[str], bool]:
    def check(candidate: str) -> bool:
        try:
            function(candidate)
        except Exception:
            return False
        return True

    return check


REFERENCE: list[tuple[str, re.Pattern[str], Callable[[str], bool], Callable[[str], str]]] = [
    (
        "btc",
        re.compile(rf"\b[13]{B58}{{25,34}}\b"),
        _decoder(
            lambda a: (
                bu.P2PKHAddrDecoder.DecodeAddr(a, net_ver=b"\x00")
                if a[0] == "1"
                else bu.P2SHAddrDecoder.DecodeAddr(a, net_ver=b"\x05")
            )
        ),
        str,
    ),
    (
        "btc",
        re.compile(r"\b(?:bc|BC)1[02-9ac-hj-np-zAC-HJ-NP-Z]{11,71}\b"),
        _decoder(lambda a: bu.SegwitBech32Decoder.Decode("bc", a)),
        str.lower,
    ),
    (
        "evm",
        re.compile(r"\b0x[0-9a-fA-F]{40}\b"),
        _decoder(lambda a: bu.EthAddrDecoder.DecodeAddr(a, skip_chksum_enc=a[2:].islower())),
        str.lower,
    ),
    ("trx", re.compile(rf"\bT{B58}{{33}}\b"), _decoder(bu.TrxAddrDecoder.DecodeAddr), str),
    (
        "ltc",
        re.compile(rf"\bL{B58}{{26,33}}\b"),
        _decoder(lambda a: bu.P2PKHAddrDecoder.DecodeAddr(a, net_ver=b"\x30")),
        str,
    ),
    (
        "doge",
        re.compile(rf"\bD{B58}{{33}}\b"),
        _decoder(lambda a: bu.P2PKHAddrDecoder.DecodeAddr(a, net_ver=b"\x1e")),
        str,
    ),
    (
        "xmr",
        re.compile(rf"\b4{B58}{{94}}\b"),
        _decoder(lambda a: bu.XmrAddrDecoder.DecodeAddr(a, net_ver=b"\x12")),
        str,
    ),
    ("iban", re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b"), _decoder(IBAN), str),
]


def reference_extract(text: str) -> list[tuple[str, str]]:
    found = []
    for scheme, pattern, check, canonical in REFERENCE:
        for match in pattern.finditer(text):
            if check(match.group()):
                found.append((scheme, canonical(match.group())))
    return found


def bastion_extract(text: str) -> list[tuple[str, str]]:
    return [(item.scheme, item.value) for item in extract_instruments(text)]


def run(
    name: str,
    extract: Callable[[str], list[tuple[str, str]]],
    posts: list[tuple[str, Planted, list[str]]],
) -> dict[str, float]:
    planted_total: dict[str, int] = {}
    planted_found: dict[str, int] = {}
    reported = decoys_reported = 0
    results = []
    started = time.perf_counter()
    for text, _, _ in posts:
        results.append(extract(text))
    elapsed = time.perf_counter() - started
    for (_, planted, decoys), found in zip(posts, results, strict=True):
        found_set = set(found)
        reported += len(found)
        for category, scheme, value in planted:
            planted_total[category] = planted_total.get(category, 0) + 1
            if (scheme, value) in found_set:
                planted_found[category] = planted_found.get(category, 0) + 1
        planted_values = {(scheme, value) for _, scheme, value in planted}
        decoys_reported += sum(1 for item in found if item not in planted_values and decoys)
    size = sum(len(text.encode("utf-8")) for text, _, _ in posts)
    row = {"mb_s": size / 1e6 / elapsed, "seconds": elapsed, "reported": reported}
    row["decoys"] = decoys_reported
    for category, total in planted_total.items():
        row[f"recall_{category}"] = planted_found.get(category, 0) / total
        row[f"total_{category}"] = total
    all_total = sum(planted_total.values())
    row["recall_all"] = sum(planted_found.values()) / all_total
    print(f"[{name}] {row['mb_s']:.2f} MB/s in {elapsed:.1f} s", file=sys.stderr, flush=True)
    return row


def as_documents(
    posts: list[tuple[str, Planted, list[str]]], size: int
) -> list[tuple[str, Planted, list[str]]]:
    """Posts joined into documents of about ``size`` bytes (a long document, an OCR dump)."""
    documents: list[tuple[str, Planted, list[str]]] = []
    texts: list[str] = []
    planted: Planted = []
    decoys: list[str] = []
    length = 0
    for text, post_planted, post_decoys in posts:
        texts.append(text)
        planted.extend(post_planted)
        decoys.extend(post_decoys)
        length += len(text.encode("utf-8"))
        if length >= size:
            documents.append(("\n\n".join(texts), planted, decoys))
            texts, planted, decoys, length = [], [], [], 0
    if texts:
        documents.append(("\n\n".join(texts), planted, decoys))
    return documents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="2 MB instead of --megabytes")
    args = parser.parse_args()
    megabytes = 2.0 if args.quick else args.megabytes

    started = time.perf_counter()
    posts = generate(megabytes)
    generated = time.perf_counter() - started
    size = sum(len(text.encode("utf-8")) for text, _, _ in posts)
    chars = sum(len(text) for text, _, _ in posts)
    print(f"generated {size / 1e6:.1f} MB in {generated:.1f} s", file=sys.stderr, flush=True)
    bastion_extract(posts[0][0])  # load data files and tables outside the timing

    bastion = run("bastion", bastion_extract, posts)
    reference = run("reference", reference_extract, posts)
    documents = as_documents(posts, 100_000)
    bastion_documents = run("bastion, documents", bastion_extract, documents)
    reference_documents = run("reference, documents", reference_extract, documents)

    categories = ["crypto", "crypto_obfuscated", "iban", "link", "phone"]
    command = "OMP_NUM_THREADS=1 .venv/bin/python bench/finance_extract.py" + (
        " --quick" if args.quick else f" --megabytes {args.megabytes:g}"
    )
    libraries = (
        f"bip-utils {version('bip-utils')}, schwifty {version('schwifty')}, "
        f"phonenumbers {version('phonenumbers')}"
    )
    print(f"Command: {command}")
    print(f"Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    print(f"Machine: {describe(libraries)}")
    planted = {c: int(bastion.get(f"total_{c}", 0)) for c in categories}
    print(
        f"Input: {len(posts)} posts, {size / 1e6:.1f} MB UTF-8 ({chars / 1e6:.1f} M characters); "
        "planted: " + ", ".join(f"{c} {n}" for c, n in planted.items())
    )
    print()
    header = "| approach | MB/s | recall, all | " + " | ".join(categories) + " | decoys reported |"
    print(header)
    print("|---|---:|---:|" + "---:|" * len(categories) + "---:|")
    rows = (
        ("**Bastion `extract_instruments`**, per post", bastion),
        ("reference, per post", reference),
        ("**Bastion `extract_instruments`**, 100 KB documents", bastion_documents),
        ("reference, 100 KB documents", reference_documents),
    )
    for name, row in rows:
        cells = [f"{row.get(f'recall_{c}', 0):.1%}" for c in categories]
        print(
            f"| {name} | {row['mb_s']:.2f} | {row['recall_all']:.1%} | "
            + " | ".join(cells)
            + f" | {int(row['decoys'])} |"
        )
    print()
    print(
        f"* Bastion / reference throughput: per post {bastion['mb_s'] / reference['mb_s']:.2f}x, "
        f"100 KB documents {bastion_documents['mb_s'] / reference_documents['mb_s']:.2f}x"
    )
    print(
        "* The reference looks for crypto addresses and compact IBANs only (links and phones "
        "are outside it); a decoy is a planted value with one character changed."
    )
    print(f"* pid {os.getpid()}; one text at a time (a post, or a 100 KB document), one thread.")


if __name__ == "__main__":
    main()
