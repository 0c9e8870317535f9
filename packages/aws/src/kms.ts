/**
 * KMS adapters for the core's StateMac and DataKeys ports. They take a KMSClient built by the
 * composition root. A wrong MAC resolves false; a ciphertext that does not match its key or
 * encryption context is internal_error (stored data was altered or moved); any other failure of the
 * SDK, the network or the service is dependency_unavailable. Messages never carry secrets.
 */
import {
  DecryptCommand,
  GenerateDataKeyCommand,
  GenerateMacCommand,
  type KMSClient,
  VerifyMacCommand,
} from "@aws-sdk/client-kms";
import type { Bytes } from "../../core/src/encoding.ts";
import { fail } from "../../core/src/errors.ts";
import type { DataKeys, StateMac } from "../../core/src/ports.ts";
import type { EncryptionContext } from "../../core/src/types.ts";

const MAC_ALGORITHM = "HMAC_SHA_256";

/** Matches SDK exceptions by name, so it also works across duplicated SDK copies. */
function isKmsError(error: unknown, ...names: string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

function unavailable(error: unknown): Error {
  return fail("dependency_unavailable", "The key service is unavailable", error);
}

/** Runs one KMS call, turning any failure into dependency_unavailable. */
async function call<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw unavailable(error);
  }
}

/** Copies a blob from a KMS response into a plain ArrayBuffer-backed array (what WebCrypto takes). */
function present(value: Uint8Array | undefined): Bytes {
  if (!value) throw unavailable(new Error("KMS response is missing a blob"));
  return new Uint8Array(value);
}

/** The encryption context as KMS takes it (a string map); it is not secret and is logged by CloudTrail. */
function kmsContext(context: EncryptionContext): Record<string, string> {
  const { orgId, connectorId, purpose, config } = context;
  return { orgId, connectorId, purpose, config };
}

/** StateMac over KMS GenerateMac / VerifyMac (HMAC_SHA_256) with the HMAC key `keyId`. */
export function kmsStateMac(client: KMSClient, keyId: string): StateMac {
  return {
    async generate(message) {
      const command = new GenerateMacCommand({ KeyId: keyId, Message: message, MacAlgorithm: MAC_ALGORITHM });
      return present((await call(() => client.send(command))).Mac);
    },
    async verify(message, mac) {
      const command = new VerifyMacCommand({
        KeyId: keyId,
        Message: message,
        Mac: mac,
        MacAlgorithm: MAC_ALGORITHM,
      });
      try {
        return (await client.send(command)).MacValid === true;
      } catch (error) {
        // Real KMS throws for a wrong MAC; some emulators answer MacValid: false instead.
        if (isKmsError(error, "KMSInvalidMacException")) return false;
        throw unavailable(error);
      }
    },
  };
}

/** DataKeys over KMS GenerateDataKey (AES_256) / Decrypt with the symmetric key `keyId`. */
export function kmsDataKeys(client: KMSClient, keyId: string): DataKeys {
  return {
    async generate(context) {
      const command = new GenerateDataKeyCommand({
        KeyId: keyId,
        KeySpec: "AES_256",
        EncryptionContext: kmsContext(context),
      });
      const output = await call(() => client.send(command));
      return { plaintext: present(output.Plaintext), encrypted: present(output.CiphertextBlob) };
    },
    async decrypt(encrypted, context) {
      const command = new DecryptCommand({
        KeyId: keyId,
        CiphertextBlob: encrypted,
        EncryptionContext: kmsContext(context),
      });
      const output = await client.send(command).catch((error: unknown) => {
        if (isKmsError(error, "InvalidCiphertextException", "IncorrectKeyException")) {
          throw fail("internal_error", "A stored secret failed its integrity check", error);
        }
        throw unavailable(error);
      });
      return present(output.Plaintext);
    },
  };
}
