"""Write a LevelDB write-ahead log file, so tests can plant records in a node's database.

LevelDB replays every NNNNNN.log file in the database directory whose number is at
least the manifest's log number when it opens the database. A log file holding one
WriteBatch is therefore a way to "write" keys without a LevelDB binding.

Format (leveldb doc/log_format.md, db/write_batch.cc):
  record  = checksum (u32 LE, masked CRC32C of type byte + data) | length (u16 LE) |
            type (u8, FULL = 1) | data; records never cross a 32 KiB block.
  batch   = sequence (u64 LE) | count (u32 LE) | entries;
  entry   = kTypeValue (1) | varint32 key length | key | varint32 value length | value.
"""

import struct

BLOCK_SIZE = 32768
HEADER_SIZE = 7
TYPE_FULL = 1
TYPE_VALUE = 1


def _crc32c_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint32(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def write_batch(sequence, puts):
    """Return the bytes of a WriteBatch putting each (key, value) of puts."""
    body = struct.pack("<QI", sequence, len(puts))
    for key, value in puts:
        body += bytes([TYPE_VALUE]) + _varint32(len(key)) + key + _varint32(len(value)) + value
    return body


def write_log_file(path, sequence, puts):
    """Write a log file at path holding one batch with puts (must fit in one block)."""
    data = write_batch(sequence, puts)
    if len(data) + HEADER_SIZE > BLOCK_SIZE:
        raise ValueError("batch too large for this simple writer")
    header = struct.pack("<IHB", masked_crc(bytes([TYPE_FULL]) + data), len(data), TYPE_FULL)
    with open(path, "wb") as f:
        f.write(header + data)


assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
