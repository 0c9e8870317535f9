/** The cold-start baseline: the bare KMS client, imported and constructed as the composition root does. */
import { KMSClient } from "@aws-sdk/client-kms";

export const kms = new KMSClient({});
