package dev.coffer.store.security;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.coffer.chunker.AtomicFiles;
import dev.coffer.chunker.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The on-disk form of the token store, {@code tokens.json} (mode 0600): per token its id, name,
 * the SHA-256 of its secret (never the secret), its grants, and when it was created and revoked.
 * Revoked tokens stay listed so an operator can see what existed. Read strictly: a damaged file
 * must stop the server rather than let it run with fewer (or other) tokens than the operator set.
 */
final class TokenFile {

    static final String FORMAT = "coffer-tokens-v1";
    static final Pattern ID = Pattern.compile("[0-9a-f]{12}");
    private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A token as stored: its description plus the hex SHA-256 of its secret. */
    record Stored(Token token, String secretSha256) {}

    @JsonInclude(JsonInclude.Include.ALWAYS)
    private record FileJson(
            @JsonProperty("format") String format,
            @JsonProperty("tokens") List<EntryJson> tokens) {}

    @JsonInclude(JsonInclude.Include.ALWAYS)
    private record EntryJson(
            @JsonProperty("id") String id,
            @JsonProperty("name") String name,
            @JsonProperty("secret_sha256") String secretSha256,
            @JsonProperty("grants") List<Grant> grants,
            @JsonProperty("created") String created,
            @JsonProperty("revoked") String revoked) {}

    private TokenFile() {}

    /** The tokens in {@code file} by id, in file order; empty if the file does not exist. */
    static Map<String, Stored> read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Map.of();
        } catch (IOException e) {
            throw new IOException("unable to read token store " + file + ": " + e, e);
        }
        String where = file.toString();
        FileJson f;
        try {
            f = JSON.readValue(bytes, FileJson.class);
        } catch (JsonProcessingException e) {
            throw new FormatException.Malformed(where, "not a valid token store: " + e.getOriginalMessage(), e);
        }
        if (f == null || !FORMAT.equals(f.format()) || f.tokens() == null) {
            throw new FormatException.Malformed(where, "not a token store: expected \"format\": \"" + FORMAT + "\" and a \"tokens\" list");
        }
        Map<String, Stored> tokens = new LinkedHashMap<>();
        for (EntryJson e : f.tokens()) {
            Stored s = toStored(where, e);
            if (tokens.putIfAbsent(s.token().id(), s) != null) {
                throw new FormatException.Malformed(where, "token id " + s.token().id() + " appears twice");
            }
        }
        return tokens;
    }

    /** Replaces {@code file} atomically with {@code tokens}, mode 0600. */
    static void write(Path file, Map<String, Stored> tokens) throws IOException {
        List<EntryJson> entries = new ArrayList<>();
        for (Stored s : tokens.values()) {
            Token t = s.token();
            entries.add(new EntryJson(t.id(), t.name(), s.secretSha256(), t.grants(), t.created().toString(),
                    t.revoked() == null ? null : t.revoked().toString()));
        }
        byte[] bytes = JSON.writeValueAsBytes(new FileJson(FORMAT, entries));
        AtomicFiles.replace(file, bytes, "rw-------");
    }

    private static Stored toStored(String where, EntryJson e) throws FormatException {
        if (e == null || e.id() == null || !ID.matcher(e.id()).matches()) {
            throw new FormatException.Malformed(where, "a token has no valid id (12 lowercase hex characters)");
        }
        String at = "token " + e.id();
        if (e.name() == null) {
            throw new FormatException.Malformed(where, at + " has no name");
        }
        if (e.secretSha256() == null || !HASH.matcher(e.secretSha256()).matches()) {
            throw new FormatException.Malformed(where, at + " has no valid secret_sha256 (64 lowercase hex characters)");
        }
        if (e.grants() == null || e.grants().contains(null)) {
            throw new FormatException.Malformed(where, at + " has no valid grants list");
        }
        try {
            Instant created = Instant.parse(e.created());
            Instant revoked = e.revoked() == null ? null : Instant.parse(e.revoked());
            return new Stored(new Token(e.id(), e.name(), e.grants(), created, revoked), e.secretSha256());
        } catch (DateTimeParseException | NullPointerException ex) {
            throw new FormatException.Malformed(where, at + " has no valid created or revoked time (ISO-8601 UTC)", ex);
        }
    }
}
