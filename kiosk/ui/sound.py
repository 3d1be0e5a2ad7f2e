"""Confirmation and error sounds through Kivy's audio (SDL2 mixer).

The tones are synthesised into WAV files on first use (no binary assets in the repository). A machine
without an audio device gets no sound and a log line, never an error on the punch path."""
from __future__ import annotations

import logging
import math
import struct
import wave
from pathlib import Path

log = logging.getLogger(__name__)
RATE = 22050
TONES = {
    "ok": [(880, 0.12), (1320, 0.22)],             # a rising two-note chime
    "error": [(330, 0.16), (0, 0.06), (330, 0.22)],  # two low beeps
}


def write_tone(path: Path, notes: list[tuple[float, float]], volume: float = 0.5) -> None:
    frames = bytearray()
    for freq, seconds in notes:
        count = int(RATE * seconds)
        for i in range(count):
            envelope = min(1.0, i / 200, (count - i) / 400)   # no clicks at the edges
            sample = volume * envelope * math.sin(2 * math.pi * freq * i / RATE) if freq else 0.0
            frames += struct.pack("<h", int(sample * 32767))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))


class KivySound:
    """The Sound port on Kivy's SoundLoader. ``volume`` (0.0-1.0) and ``silent`` come from the settings'
    ``sound`` section and change at once from 設定 › 表示・機器 (:meth:`configure`)."""

    def __init__(self, cache_dir: Path, volume: float = 1.0, silent: bool = False):
        self._sounds = {}
        self.volume, self.silent = volume, silent
        from kivy.core.audio import SoundLoader

        for name, notes in TONES.items():
            path = cache_dir / f"{name}.wav"
            try:
                if not path.exists():
                    cache_dir.mkdir(parents=True, exist_ok=True)
                    write_tone(path, notes)
            except OSError as exc:   # e.g. a read-only data directory: silence, not a crash
                log.warning("cannot write %s: %s", path, exc)
                continue
            sound = SoundLoader.load(str(path))
            if sound is None:
                log.warning("no audio output: %s will be silent", name)
            self._sounds[name] = sound

    def configure(self, volume: float, silent: bool) -> None:
        self.volume, self.silent = volume, silent

    def play(self, name: str) -> None:
        sound = self._sounds.get(name)
        if sound is not None and not self.silent:
            sound.stop()
            sound.volume = self.volume
            sound.play()
