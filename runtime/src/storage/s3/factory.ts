/** The S3 backend (cold tier): its config section, client and buffering sink, for the registry in storage/index.ts. */
import type { S3Client } from '@aws-sdk/client-s3';
import type { StorageBackend } from '../backend.js';
import { S3SinkConfig, type S3SinkSettings } from './config.js';
import { createS3SinkMetrics } from './metrics.js';
import { S3Sink } from './sink.js';
import { createS3Client, S3ObjectStore } from './store.js';

export const s3Backend: StorageBackend<S3SinkSettings, S3Client> = {
  name: 's3',
  codec: S3SinkConfig,
  connect: createS3Client,
  createSink: (client, settings, { pipeline, registry, log }) =>
    new S3Sink({
      store: new S3ObjectStore(client, settings.bucket, settings.multipart),
      settings,
      pipeline,
      metrics: createS3SinkMetrics(registry),
      log,
    }),
};
