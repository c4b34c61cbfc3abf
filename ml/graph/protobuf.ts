/**
 * A Protocol Buffers encoder for the few TensorFlow messages Pipewright writes (GraphDef inside a
 * SavedModel): varints, fixed 32-bit floats and length-delimited fields, appended in call order.
 */
export class ProtoWriter {
  private readonly bytes: number[] = [];

  /** A varint field (int32, int64, bool, enum). */
  varint(field: number, value: number | bigint): this {
    return this.key(field, 0).raw(value);
  }

  bool(field: number, value: boolean): this {
    return this.varint(field, value ? 1 : 0);
  }

  float(field: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.key(field, 5);
    for (const x of b) this.bytes.push(x);
    return this;
  }

  /** A length-delimited field: bytes, a string (UTF-8) or an embedded message. */
  bytesField(field: number, value: Uint8Array | string | ProtoWriter): this {
    const data =
      typeof value === 'string' ? Buffer.from(value, 'utf8') : value instanceof ProtoWriter ? value.finish() : value;
    this.key(field, 2).raw(data.length);
    for (const x of data) this.bytes.push(x);
    return this;
  }

  finish(): Buffer {
    return Buffer.from(this.bytes);
  }

  private key(field: number, wireType: number): this {
    return this.raw((field << 3) | wireType);
  }

  private raw(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
    return this;
  }
}
