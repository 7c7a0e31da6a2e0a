package dev.coffer.agent.nbd;

/**
 * Every number of the NBD wire protocol the client and the server ({@code coffer serve}) use, in one place, so a reader can check them
 * against the spec (doc/proto.md in the NBD repository) line by line. Values are fixed by the
 * protocol: never change them. All integers travel unsigned and big-endian.
 */
public final class NbdProtocol {

    private NbdProtocol() {}

    // --- handshake ("NBDMAGIC" then "IHAVEOPT", the latter also prefixes every option request)
    public static final long NBDMAGIC = 0x4e42444d41474943L;
    public static final long IHAVEOPT = 0x49484156454f5054L;
    /** Second magic of the oldstyle handshake, which this client refuses. */
    public static final long OLDSTYLE_MAGIC = 0x0000420281861253L;
    public static final long OPTION_REPLY_MAGIC = 0x0003e889045565a9L;

    public static final int FLAG_FIXED_NEWSTYLE = 0x1;
    public static final int FLAG_NO_ZEROES = 0x2;

    // --- options
    public static final int OPT_EXPORT_NAME = 1;
    public static final int OPT_ABORT = 2;
    public static final int OPT_LIST = 3;
    public static final int OPT_STARTTLS = 5;
    public static final int OPT_INFO = 6;
    public static final int OPT_GO = 7;
    public static final int OPT_STRUCTURED_REPLY = 8;
    public static final int OPT_LIST_META_CONTEXT = 9;
    public static final int OPT_SET_META_CONTEXT = 10;

    // --- option reply types; errors have bit 31 set
    public static final int REP_ACK = 1;
    public static final int REP_SERVER = 2;
    public static final int REP_INFO = 3;
    public static final int REP_META_CONTEXT = 4;
    public static final int REP_FLAG_ERROR = 0x8000_0000;
    public static final int REP_ERR_UNSUP = REP_FLAG_ERROR | 1;
    public static final int REP_ERR_POLICY = REP_FLAG_ERROR | 2;
    public static final int REP_ERR_INVALID = REP_FLAG_ERROR | 3;
    public static final int REP_ERR_UNKNOWN = REP_FLAG_ERROR | 6;
    public static final int REP_ERR_TOO_BIG = REP_FLAG_ERROR | 9;

    public static final int INFO_EXPORT = 0;
    public static final int INFO_NAME = 1;
    public static final int INFO_DESCRIPTION = 2;
    public static final int INFO_BLOCK_SIZE = 3;

    // --- transmission
    public static final int REQUEST_MAGIC = 0x25609513;
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;
    public static final int REQUEST_HEADER = 28;
    public static final int SIMPLE_REPLY_HEADER = 16;
    public static final int STRUCTURED_REPLY_HEADER = 20;

    public static final int CMD_FLAG_FUA = 0x1;
    public static final int CMD_FLAG_NO_HOLE = 0x2;
    public static final int CMD_FLAG_DF = 0x4;
    public static final int CMD_FLAG_REQ_ONE = 0x8;

    public static final int REPLY_FLAG_DONE = 0x1;
    public static final int CHUNK_NONE = 0;
    public static final int CHUNK_OFFSET_DATA = 1;
    public static final int CHUNK_OFFSET_HOLE = 2;
    public static final int CHUNK_BLOCK_STATUS = 5;
    public static final int CHUNK_ERROR = 32769;
    public static final int CHUNK_ERROR_OFFSET = 32770;
    /** Unknown chunk types with this bit are an error for one request only. */
    public static final int CHUNK_ERROR_BIT = 0x8000;

    // --- limits
    /** NBD_MAX_STRING_SIZE: no name, message or context name may be longer. */
    public static final int MAX_STRING = 4096;
    /** The spec's defaults when the server sends no NBD_INFO_BLOCK_SIZE. */
    public static final int DEFAULT_MINIMUM_BLOCK = 1;
    public static final int DEFAULT_PREFERRED_BLOCK = 4096;
    public static final int DEFAULT_MAXIMUM_PAYLOAD = 32 << 20;

    public static String optionName(int option) {
        return switch (option) {
            case OPT_EXPORT_NAME -> "NBD_OPT_EXPORT_NAME";
            case OPT_ABORT -> "NBD_OPT_ABORT";
            case OPT_LIST -> "NBD_OPT_LIST";
            case OPT_STARTTLS -> "NBD_OPT_STARTTLS";
            case OPT_INFO -> "NBD_OPT_INFO";
            case OPT_GO -> "NBD_OPT_GO";
            case OPT_STRUCTURED_REPLY -> "NBD_OPT_STRUCTURED_REPLY";
            case OPT_LIST_META_CONTEXT -> "NBD_OPT_LIST_META_CONTEXT";
            case OPT_SET_META_CONTEXT -> "NBD_OPT_SET_META_CONTEXT";
            default -> "option " + option;
        };
    }

    public static String optionErrorName(int reply) {
        return switch (reply & ~REP_FLAG_ERROR) {
            case 1 -> "NBD_REP_ERR_UNSUP";
            case 2 -> "NBD_REP_ERR_POLICY";
            case 3 -> "NBD_REP_ERR_INVALID";
            case 4 -> "NBD_REP_ERR_PLATFORM";
            case 5 -> "NBD_REP_ERR_TLS_REQD";
            case 6 -> "NBD_REP_ERR_UNKNOWN";
            case 7 -> "NBD_REP_ERR_SHUTDOWN";
            case 8 -> "NBD_REP_ERR_BLOCK_SIZE_REQD";
            case 9 -> "NBD_REP_ERR_TOO_BIG";
            default -> "error reply 0x" + Integer.toHexString(reply);
        };
    }

    public static boolean isUnsupported(int reply) {
        return reply == (REP_FLAG_ERROR | 1);
    }
}
