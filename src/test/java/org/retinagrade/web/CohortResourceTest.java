package org.retinagrade.web;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.retinagrade.TestDatabase;
import org.retinagrade.study.CohortService;

@QuarkusTest
@QuarkusTestResource(TestDatabase.class)
class CohortResourceTest {

    @Inject
    CohortService cohortService;

    @Test
    void healthIsUp() {
        given().when().get("/q/health").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void cohortsAreListedWithCounts() {
        cohortService.findOrCreate("web-listed", "tester");
        given().when().get("/api/cohorts").then().statusCode(200)
                .body("name", hasItem("web-listed"));
        given().when().get("/api/cohorts/web-listed").then().statusCode(200)
                .body("members", equalTo(0))
                .body("perGrade.'0'", equalTo(0));
    }

    @Test
    void unknownCohortIsNotFound() {
        given().when().get("/api/cohorts/no-such-cohort").then().statusCode(404)
                .body("error", equalTo("cohort 'no-such-cohort' not found"));
    }
}
