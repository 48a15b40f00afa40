import GencSupport

/// The tests' JSON reader (the schema, genc's `--json` output): genc's own
/// strict parser, `JSONValue.parse`, so tests read JSON exactly as genc
/// does (Foundation's parser blurs booleans and numbers on Linux).
public enum JSONParser {
    public static func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }
}
