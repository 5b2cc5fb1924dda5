#!/usr/bin/env bash
# Installs Bastion into ./.venv with the machine's Python (3.11 or newer).
#   scripts/install.sh          the application
#   scripts/install.sh test     plus everything the test suite needs
#   scripts/install.sh bench    plus the reference implementations the benchmarks compare against
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install.sh: please install these packages with your package manager: $*" >&2
    return 1
  fi
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "install.sh: Bastion needs Python 3.11 or newer as '$PYTHON' (set PYTHON=...)" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  # Debian and Ubuntu ship venv and ensurepip in a separate package.
  if ! "$PYTHON" -m venv .venv >/dev/null 2>&1; then
    rm -rf .venv
    ver=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    apt_install "python${ver}-venv" || apt_install python3-venv
    "$PYTHON" -m venv .venv
  fi
fi

# Audio fingerprints need the Chromaprint library, loaded at run time (without it, Bastion runs
# and reports audio fingerprinting as unavailable). grep reads all of ldconfig's output, so no
# SIGPIPE fails the pipeline.
shared_libraries() { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true; }
if ! shared_libraries | grep 'libchromaprint\.so\.1' >/dev/null; then
  apt_install libchromaprint1 ||
    echo "install.sh: without libchromaprint1, audio fingerprinting will be unavailable" >&2
fi

# OCR of text in images runs the Tesseract program with one language pack per language Bastion
# reads by default (without it, Bastion runs and reports OCR as unavailable). The tests also draw
# text in those scripts, so they need fonts and FriBiDi (Pillow's Arabic layout); for them all of
# it is required.
ocr_packages="tesseract-ocr tesseract-ocr-ara tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-deu
  tesseract-ocr-rus tesseract-ocr-urd tesseract-ocr-hin tesseract-ocr-ind"
ocr_ready() {
  local langs
  langs=$(tesseract --list-langs 2>/dev/null) || return 1
  for lang in ara eng fra deu rus urd hin ind; do
    grep -qx "$lang" <<<"$langs" || return 1
  done
}
if [ "$extra" = test ] || [ "$extra" = bench ]; then
  if ! ocr_ready || [ ! -e /usr/share/fonts/truetype/noto/NotoNaskhArabic-Bold.ttf ] ||
    [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
    # shellcheck disable=SC2086 # the list is split into package names on purpose
    apt_install $ocr_packages fonts-dejavu-core fonts-noto-core libfribidi0
  fi
elif ! ocr_ready; then
  # shellcheck disable=SC2086
  apt_install $ocr_packages ||
    echo "install.sh: without tesseract-ocr, text in images will not be read (OCR unavailable)" >&2
fi

# Financial evidence reports (PDF) print Arabic and Cyrillic names with DejaVu Sans; without it
# they fall back to a transliteration.
if [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  apt_install fonts-dejavu-core ||
    echo "install.sh: without fonts-dejavu-core, PDF reports transliterate non-Latin names" >&2
fi

# Livestreams: PyAV reads RTMP, RTSP and HLS itself; SRT goes through Debian's ffmpeg as a relay
# (without it, Bastion runs and refuses srt:// sources with a clear error). The tests and the
# benchmarks also push real streams with ffmpeg to nginx's RTMP module on loopback.
stream_ready() {
  command -v ffmpeg >/dev/null 2>&1 || return 1
  if [ "$extra" = test ] || [ "$extra" = bench ]; then
    command -v nginx >/dev/null 2>&1 && [ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || return 1
  fi
}
if ! stream_ready; then
  if [ "$extra" = test ] || [ "$extra" = bench ]; then
    # policy-rc.d 101: the package must not start a system nginx; the tests run their own.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
      as_root chmod +x "$policy"
      apt_install ffmpeg nginx libnginx-mod-rtmp || { as_root rm -f "$policy"; exit 1; }
      as_root rm -f "$policy"
    else
      apt_install ffmpeg nginx libnginx-mod-rtmp
    fi
  else
    apt_install ffmpeg || echo "install.sh: without ffmpeg, srt:// streams cannot be watched" >&2
  fi
fi

# The web UI's browser tests drive Debian's Chromium through Playwright (no downloaded browser).
if { [ "$extra" = test ] || [ "$extra" = bench ]; } && ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium
fi

case "$extra" in
  "") spec="." ;;
  test) spec=".[test]" ;;
  bench)
    # vpdq (the reference video hasher) builds against the system FFmpeg libraries.
    pkg-config --exists libavcodec libavformat libswscale 2>/dev/null ||
      apt_install pkg-config libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libavdevice-dev
    spec=".[test,bench]" ;;
  *) echo "install.sh: unknown extra '$extra' (use test or bench)" >&2; exit 2 ;;
esac
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
