package dev.coffer.agent.bench;

import dev.coffer.chunker.CryptConfig;
import java.util.SplittableRandom;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * Throw-away keys for a benchmark run: a {@link CryptConfig} for the keyed digest and the
 * encrypting codec, and a raw AES-256 key for the bare AES-GCM ops (whose key the codec keeps to
 * itself). Derived from a seed; they protect nothing and are never written anywhere.
 */
record BenchKeys(CryptConfig crypt, SecretKey aesKey) {

    static BenchKeys fromSeed(long seed) {
        SplittableRandom random = new SplittableRandom(seed ^ 0x6b657973L);
        byte[] master = new byte[CryptConfig.MASTER_KEY_LENGTH];
        random.nextBytes(master);
        byte[] aes = new byte[32];
        random.nextBytes(aes);
        return new BenchKeys(CryptConfig.fromMasterKey(master), new SecretKeySpec(aes, "AES"));
    }
}
