package org.retinagrade.web;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Builds every JSON error body of the REST API: {@code {"status": ..., "error": ...}}.
 * Client errors are logged at DEBUG; unexpected failures at ERROR with their stack trace.
 */
@Provider
public class ErrorMapper implements ExceptionMapper<Throwable> {

    private static final Logger LOG = Logger.getLogger(ErrorMapper.class);

    @Override
    public Response toResponse(Throwable failure) {
        int status;
        String message;
        if (failure instanceof WebApplicationException web) {
            status = web.getResponse().getStatus();
            message = failure.getMessage();
            LOG.debugf("request failed with status %d: %s", status, message);
        } else if (failure instanceof IllegalArgumentException) {
            status = 400;
            message = failure.getMessage();
            LOG.debugf("invalid request: %s", message);
        } else {
            status = 500;
            message = "internal error; see the service log";
            LOG.error("request failed unexpectedly", failure);
        }
        return Response.status(status).type(MediaType.APPLICATION_JSON)
                .entity(Map.of("status", status, "error", message == null ? "" : message)).build();
    }
}
