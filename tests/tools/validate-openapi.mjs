// Validates an OpenAPI document (a file) against the OpenAPI 3.x JSON Schemas, resolving every
// $ref: exit 0 and "valid <version>" when it is, exit 1 with the errors when not.
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";

const file = process.argv[2];
const validator = new Validator();
const result = await validator.validate(JSON.parse(readFileSync(file, "utf8")));
if (!result.valid) {
    console.error(JSON.stringify(result.errors, null, 2));
    process.exit(1);
}
console.log(`valid ${validator.version}`);
