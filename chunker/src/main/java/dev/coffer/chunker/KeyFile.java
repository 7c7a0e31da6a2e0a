package dev.coffer.chunker;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.generators.SCrypt;

/**
 * An encryption key on disk: a random 32-byte master key, wrapped under a passphrase.
 *
 * <p>The passphrase goes through scrypt (memory-hard, so guessing costs memory as well as time) to
 * a key-encryption key, which seals the master key with AES-256-GCM; the GCM tag is what tells a
 * wrong passphrase from a right one, so the error is certain, not a guess. {@code kdf: none} stores
 * the master key unwrapped, for hosts whose disk protection is the safeguard (as PBS allows). The
 * file also records the key's fingerprint, so {@code coffer key show} and the store can name a key
 * without unlocking it. JSON, format in docs/formats.md.
 */
public final class KeyFile {

    /** scrypt cost parameters; N must be a power of two greater than 1. */
    public record ScryptParams(int n, int r, int p) {
        /** N=2^16, r=8, p=1: 64 MiB and roughly a quarter second per unlock on one core. */
        public static final ScryptParams DEFAULT = new ScryptParams(1 << 16, 8, 1);

        public ScryptParams {
            if (n < 2 || Integer.bitCount(n) != 1 || r < 1 || p < 1 || (long) n * r > (1 << 24)) {
                throw new IllegalArgumentException("scrypt parameters out of range: N=" + n + " r=" + r + " p=" + p);
            }
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] AAD = FileFormats.KEY_FILE_FORMAT.getBytes(StandardCharsets.US_ASCII);

    private final ObjectNode json;

    private KeyFile(ObjectNode json) {
        this.json = json;
    }

    /** A fresh random master key. */
    public static byte[] newMasterKey() {
        byte[] key = new byte[CryptConfig.MASTER_KEY_LENGTH];
        new SecureRandom().nextBytes(key);
        return key;
    }

    /**
     * Wraps {@code masterKey} under {@code passphrase}; a null passphrase stores it unwrapped
     * ({@code kdf: none}).
     */
    public static KeyFile create(byte[] masterKey, char[] passphrase, ScryptParams params, Instant created) {
        CryptConfig crypt = CryptConfig.fromMasterKey(masterKey);
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FileFormats.KEY_FILE_FORMAT);
        root.put("created", created.truncatedTo(ChronoUnit.SECONDS).toString());
        root.put("fingerprint", crypt.fingerprint());
        Base64.Encoder b64 = Base64.getEncoder();
        ObjectNode kdf = root.putObject("kdf");
        if (passphrase == null) {
            kdf.put("name", "none");
            root.put("master_key", b64.encodeToString(masterKey));
            return new KeyFile(root);
        }
        SecureRandom random = new SecureRandom();
        byte[] salt = new byte[16];
        random.nextBytes(salt);
        kdf.put("name", "scrypt").put("n", params.n()).put("r", params.r()).put("p", params.p())
                .put("salt", b64.encodeToString(salt));
        byte[] iv = new byte[FileFormats.GCM_IV_LENGTH];
        random.nextBytes(iv);
        byte[] kek = scrypt(passphrase, salt, params);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(kek, "AES"), new GCMParameterSpec(128, iv));
            c.updateAAD(AAD);
            root.put("iv", b64.encodeToString(iv));
            root.put("wrapped_key", b64.encodeToString(c.doFinal(masterKey)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is part of every JDK", e);
        } finally {
            Arrays.fill(kek, (byte) 0);
        }
        return new KeyFile(root);
    }

    /**
     * Parses a key file's bytes; {@code where} names it in errors.
     *
     * @throws FormatException.Malformed when it is not a Coffer key file
     */
    public static KeyFile parse(byte[] bytes, String where) throws FormatException {
        JsonNode node;
        try {
            node = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new FormatException.Malformed(where, "key file is not valid JSON: " + firstLine(e), e);
        }
        if (!(node instanceof ObjectNode obj) || !FileFormats.KEY_FILE_FORMAT.equals(obj.path("format").asText(null))) {
            throw new FormatException.Malformed(where, "not a Coffer key file (format is not \""
                    + FileFormats.KEY_FILE_FORMAT + "\")");
        }
        KeyFile kf = new KeyFile(obj);
        kf.text(where, "fingerprint");
        String kdf = kf.json.path("kdf").path("name").asText("");
        if (!kdf.equals("none") && !kdf.equals("scrypt")) {
            throw new FormatException.Malformed(where, "kdf.name must be \"scrypt\" or \"none\", got \"" + kdf + "\"");
        }
        return kf;
    }

    /** Reads and parses the key file at {@code path}. */
    public static KeyFile read(Path path) throws IOException {
        return parse(Files.readAllBytes(path), "key file " + path);
    }

    /** True when unlocking needs a passphrase. */
    public boolean needsPassphrase() {
        return !"none".equals(json.path("kdf").path("name").asText());
    }

    /** The fingerprint recorded in the file (checked against the key on {@link #unlock}). */
    public String fingerprint() {
        return json.path("fingerprint").asText();
    }

    /** When the key was created. */
    public Instant created() {
        return Instant.parse(json.path("created").asText());
    }

    /**
     * Unwraps the master key and derives its keys.
     *
     * @param where names the key file in errors
     * @throws FormatException.WrongPassphrase when the passphrase does not open the file
     * @throws FormatException.Malformed when a field is missing or the recorded fingerprint is not
     *     the key's
     */
    public CryptConfig unlock(char[] passphrase, String where) throws FormatException {
        byte[] master;
        if (!needsPassphrase()) {
            master = base64(where, "master_key");
        } else {
            if (passphrase == null) {
                throw new FormatException.WrongPassphrase(where, "key file is protected by a passphrase and none was given"
                        + " (set COFFER_PASSPHRASE or enter it at the prompt)");
            }
            JsonNode kdf = json.path("kdf");
            ScryptParams params;
            try {
                params = new ScryptParams(kdf.path("n").asInt(), kdf.path("r").asInt(), kdf.path("p").asInt());
            } catch (IllegalArgumentException e) {
                throw new FormatException.Malformed(where, e.getMessage());
            }
            byte[] kek = scrypt(passphrase, base64(where, "kdf.salt"), params);
            try {
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(kek, "AES"),
                        new GCMParameterSpec(128, base64(where, "iv")));
                c.updateAAD(AAD);
                master = c.doFinal(base64(where, "wrapped_key"));
            } catch (AEADBadTagException e) {
                throw new FormatException.WrongPassphrase(where, "wrong passphrase (or the key file was changed)");
            } catch (GeneralSecurityException e) {
                throw new FormatException.Malformed(where, "cannot unwrap the key: " + e.getMessage(), e);
            } finally {
                Arrays.fill(kek, (byte) 0);
            }
        }
        if (master.length != CryptConfig.MASTER_KEY_LENGTH) {
            throw new FormatException.Malformed(where, "master key is " + master.length + " bytes, not "
                    + CryptConfig.MASTER_KEY_LENGTH);
        }
        CryptConfig crypt = CryptConfig.fromMasterKey(master);
        Arrays.fill(master, (byte) 0);
        if (!crypt.matchesFingerprint(fingerprint())) {
            throw new FormatException.Malformed(where, "recorded fingerprint " + fingerprint()
                    + " is not the key's own (" + crypt.fingerprint() + "): the file was edited");
        }
        return crypt;
    }

    /** The file's bytes: pretty-printed JSON. */
    public byte[] toBytes() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(json);
        } catch (JacksonException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes the key file crash-safely (temp file, fsync, rename) and readable only by its owner.
     * Refuses to overwrite an existing file: losing a key loses every backup made with it.
     */
    public void write(Path path) throws IOException {
        AtomicFiles.writeNew(path, toBytes(), "rw-------");
    }

    private static byte[] scrypt(char[] passphrase, byte[] salt, ScryptParams p) {
        ByteBuffer utf8 = StandardCharsets.UTF_8.encode(CharBuffer.wrap(passphrase));
        byte[] pass = new byte[utf8.remaining()];
        utf8.get(pass);
        try {
            return SCrypt.generate(pass, salt, p.n(), p.r(), p.p(), 32);
        } finally {
            Arrays.fill(pass, (byte) 0);
        }
    }

    private String text(String where, String field) throws FormatException {
        JsonNode n = json.path(field);
        if (!n.isTextual()) {
            throw new FormatException.Malformed(where, "field \"" + field + "\" is missing or not a string");
        }
        return n.asText();
    }

    private byte[] base64(String where, String dotted) throws FormatException {
        JsonNode n = json;
        for (String part : dotted.split("\\.")) {
            n = n.path(part);
        }
        if (!n.isTextual()) {
            throw new FormatException.Malformed(where, "field \"" + dotted + "\" is missing or not a string");
        }
        try {
            return Base64.getDecoder().decode(n.asText());
        } catch (IllegalArgumentException e) {
            throw new FormatException.Malformed(where, "field \"" + dotted + "\" is not base64");
        }
    }

    private static String firstLine(Exception e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
