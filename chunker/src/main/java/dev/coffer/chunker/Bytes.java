package dev.coffer.chunker;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.HexFormat;

/** Little-endian field access for the formats, without ByteBuffer allocation on hot paths. */
final class Bytes {

    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private Bytes() {}

    static int getIntLE(byte[] b, int off) {
        return (int) INT_LE.get(b, off);
    }

    static void putIntLE(byte[] b, int off, int v) {
        INT_LE.set(b, off, v);
    }

    static long getLongLE(byte[] b, int off) {
        return (long) LONG_LE.get(b, off);
    }

    static void putLongLE(byte[] b, int off, long v) {
        LONG_LE.set(b, off, v);
    }

    static String hex(byte[] b, int off, int len) {
        return HexFormat.of().formatHex(b, off, off + len);
    }
}
