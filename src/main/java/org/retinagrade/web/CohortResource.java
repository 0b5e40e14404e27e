package org.retinagrade.web;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.retinagrade.study.CohortService;

/** Cohorts and their member counts as JSON. */
@Path("/api/cohorts")
@Produces(MediaType.APPLICATION_JSON)
public class CohortResource {

    @Inject
    CohortService service;

    @GET
    public List<CohortService.Summary> list() {
        return service.summaries();
    }

    @GET
    @Path("/{name}")
    public CohortService.Summary get(@PathParam("name") String name) {
        return service.summary(name).orElseThrow(() -> new NotFoundException("cohort '" + name + "' not found"));
    }
}
