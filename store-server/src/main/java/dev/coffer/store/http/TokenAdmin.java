package dev.coffer.store.http;

import dev.coffer.store.api.ApiTypes.TokenCreateRequest;
import dev.coffer.store.api.ApiTypes.TokenCreated;
import dev.coffer.store.api.ApiTypes.TokenInfo;
import java.util.List;

/** Token administration as the routes need it, backed by the server's token store. */
public interface TokenAdmin {

    TokenCreated create(TokenCreateRequest request) throws Exception;

    List<TokenInfo> list() throws Exception;

    /** @return false when there is no such token */
    boolean revoke(String id) throws Exception;
}
