// The openai npm package's embeddings call, for scripts/clients_check.py (which compares the
// vectors with its numpy reference): embeds TEXTS through BASE_URL and prints the vectors the
// SDK hands back, as a JSON list of number lists.
//
// usage: NODE_PATH=DIR/node_modules node clients-check-openai.cjs BASE_URL (default|float) TEXTS_JSON
// `default` leaves encoding_format to the SDK (it asks for base64 and decodes it to floats).
"use strict";

const OpenAI = require("openai");

async function main() {
  const [baseURL, encoding, texts] = process.argv.slice(2);
  const client = new OpenAI({ baseURL, apiKey: "sk-embedserve-test", maxRetries: 0 });
  const request = { model: "embedserve", input: JSON.parse(texts) };
  if (encoding === "float") {
    request.encoding_format = "float";
  }
  const response = await client.embeddings.create(request);
  const vectors = response.data.map((item) => Array.from(item.embedding));
  process.stdout.write(JSON.stringify(vectors));
}

main().catch((error) => {
  process.stderr.write(`${error.status ?? ""} ${error.message}\n`);
  process.exit(1);
});
