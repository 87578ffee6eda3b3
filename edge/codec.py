"""Sealed payloads: children's data never reaches the engine's store in plaintext.

Every payload a project client sends (workflow inputs, updates and their results, queries'
answers, activity arguments and results, failures' messages and stack traces) is sealed with
AES-256-GCM in the layout of Temporal's encryption sample:

    metadata  encoding: binary/encrypted, encryption-key-id: <key id>
    data      12-byte random nonce + ciphertext of the serialised Payload

Keys come from CSE_CODEC_KEYS, `<key id>:<base64 of 32 bytes>` comma-separated: the first
seals, all open, so a new key is put first and the old ones kept until nothing sealed with
them is read any more. A payload that is not sealed is passed through on decode: the
histories recorded before sealing, and an outside client run with CSE_PLAINTEXT_PAYLOADS=true.

Errors: `CodecKeyError` (a malformed CSE_CODEC_KEYS, named by position, never echoing a key)
and `PayloadSealError` (a payload sealed with a key this process does not hold, or one that
does not open: tampered, or the wrong key under a reused id).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class CodecKeyError(ValueError):
    """CSE_CODEC_KEYS cannot be used; the message names the item, never its key."""


class PayloadSealError(ValueError):
    """A sealed payload that this process cannot open."""


@dataclass(frozen=True)
class CodecKeys:
    """The keys of CSE_CODEC_KEYS: `sealing_id` seals, every key in `keys` opens."""

    sealing_id: str
    keys: Mapping[str, bytes]

    @classmethod
    def parse(cls, text: str, setting: str = "CSE_CODEC_KEYS") -> CodecKeys:
        """`setting` names the variable in errors: every key list of the service (payload,
        session and child index keys) has this one format."""
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            raise CodecKeyError(f"{setting} is empty: give `<key id>:<base64 of 32 bytes>`")
        keys: dict[str, bytes] = {}
        for position, item in enumerate(items, start=1):
            key_id, key = _parse_item(f"{setting} item {position}", item)
            if key_id in keys:
                raise CodecKeyError(f"{setting} item {position}: key id {key_id!r} repeated")
            keys[key_id] = key
        return cls(sealing_id=next(iter(keys)), keys=keys)


def _parse_item(where: str, item: str) -> tuple[str, bytes]:
    key_id, colon, encoded = item.partition(":")
    key_id = key_id.strip()
    if not colon or not _KEY_ID_PATTERN.match(key_id):
        raise CodecKeyError(f"{where}: expected `<key id>:<base64 of 32 bytes>`")
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise CodecKeyError(f"{where} ({key_id}): the key is not base64") from None
    if len(key) != KEY_BYTES:
        raise CodecKeyError(f"{where} ({key_id}): the key must be 32 bytes, not {len(key)}")
    return key_id, key


def new_key_item(key_id: str) -> str:
    """A fresh `<key id>:<base64 of 32 random bytes>` for CSE_CODEC_KEYS."""
    if not _KEY_ID_PATTERN.match(key_id):
        raise CodecKeyError(f"key id {key_id!r}: letters, digits, '_', '.', '-' only")
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


class SealingCodec(PayloadCodec):
    """AES-256-GCM over each whole serialised Payload (its metadata included)."""

    def __init__(self, keys: CodecKeys) -> None:
        self._sealing_id = keys.sealing_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(payload) for payload in payloads]

    def seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._sealing_id].encrypt(nonce, payload.SerializeToString(), None)
        metadata = {"encoding": ENCODING, KEY_ID: self._sealing_id.encode()}
        return Payload(metadata=metadata, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadSealError(
                f"a payload is sealed with key {key_id!r}, which CSE_CODEC_KEYS does not hold"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            return Payload.FromString(cipher.decrypt(nonce, sealed, None))
        except InvalidTag:
            raise PayloadSealError(
                f"a payload sealed with key {key_id!r} does not open: altered, or another key"
            ) from None
