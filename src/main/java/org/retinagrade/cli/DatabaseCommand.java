package org.retinagrade.cli;

/**
 * Marks the commands that need the database and therefore Quarkus; every other command,
 * and help on any command, runs without starting either.
 */
public interface DatabaseCommand {
}
