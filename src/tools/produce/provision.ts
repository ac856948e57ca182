/**
 * What a real deployment has, created for local use (emulator) or a sandbox account, idempotently:
 * the bucket, the queue with its dead-letter queue and redrive policy, and the bucket notification for
 * s3:ObjectCreated:* straight to the queue, or through an SNS topic subscribed by the queue.
 */
import {
  CreateBucketCommand,
  type CreateBucketCommandInput,
  HeadBucketCommand,
  PutBucketNotificationConfigurationCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateTopicCommand,
  SetTopicAttributesCommand,
  type SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";

interface ProvisionOptions {
  bucket: string;
  queue: string;
  /** Notification path: straight to SQS, or S3 -> SNS topic -> SQS. */
  via: "s3" | "sns";
  /** Topic name when via "sns" (default: the queue's name). */
  topic?: string;
  /** Only keys under this prefix notify. */
  prefix?: string;
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount?: number;
}

export interface Provisioned {
  bucket: string;
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
  topicArn?: string;
}

interface ProvisionClients {
  s3: S3Client;
  sqs: SQSClient;
  sns?: SNSClient;
}

const FOURTEEN_DAYS = String(14 * 24 * 3600);

async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 404 && (err as Error).name !== "NotFound") throw err;
  }
  const region = await s3.config.region();
  const input: CreateBucketCommandInput = { Bucket: bucket };
  if (region && region !== "us-east-1")
    input.CreateBucketConfiguration = { LocationConstraint: region as never };
  try {
    await s3.send(new CreateBucketCommand(input));
  } catch (err) {
    if ((err as Error).name !== "BucketAlreadyOwnedByYou") throw err;
  }
}

async function ensureQueue(sqs: SQSClient, name: string): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const url = created.QueueUrl;
  if (!url) throw new Error(`CreateQueue ${name} returned no URL`);
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  const arn = attrs.Attributes?.["QueueArn"];
  if (!arn) throw new Error(`queue ${name} has no QueueArn attribute`);
  return { url, arn };
}

/** Queue policy: only this bucket (or this topic) may send to the queue. */
function queuePolicy(queueArn: string, source: { bucket: string } | { topicArn: string }): string {
  const statement =
    "bucket" in source
      ? {
          Sid: "AllowS3BucketNotifications",
          Effect: "Allow",
          Principal: { Service: "s3.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queueArn,
          Condition: { ArnLike: { "aws:SourceArn": `arn:aws:s3:::${source.bucket}` } },
        }
      : {
          Sid: "AllowSnsTopic",
          Effect: "Allow",
          Principal: { Service: "sns.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queueArn,
          Condition: { ArnEquals: { "aws:SourceArn": source.topicArn } },
        };
  return JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
}

function topicPolicy(topicArn: string, bucket: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowS3BucketNotifications",
        Effect: "Allow",
        Principal: { Service: "s3.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: { ArnLike: { "aws:SourceArn": `arn:aws:s3:::${bucket}` } },
      },
    ],
  });
}

export async function provision(clients: ProvisionClients, opts: ProvisionOptions): Promise<Provisioned> {
  const { s3, sqs } = clients;
  await ensureBucket(s3, opts.bucket);
  const dlq = await ensureQueue(sqs, `${opts.queue}-dlq`);
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: dlq.url,
      Attributes: { MessageRetentionPeriod: FOURTEEN_DAYS },
    }),
  );
  const queue = await ensureQueue(sqs, opts.queue);
  const redrive = JSON.stringify({
    deadLetterTargetArn: dlq.arn,
    maxReceiveCount: opts.maxReceiveCount ?? 5,
  });

  const filter = opts.prefix
    ? { Filter: { Key: { FilterRules: [{ Name: "prefix" as const, Value: opts.prefix }] } } }
    : {};
  let topicArn: string | undefined;
  if (opts.via === "sns") {
    const sns = clients.sns;
    if (!sns) throw new Error("an SNS client is needed for notifications via SNS");
    const topic = await sns.send(new CreateTopicCommand({ Name: opts.topic ?? opts.queue }));
    topicArn = topic.TopicArn;
    if (!topicArn) throw new Error("CreateTopic returned no TopicArn");
    await sns.send(
      new SetTopicAttributesCommand({
        TopicArn: topicArn,
        AttributeName: "Policy",
        AttributeValue: topicPolicy(topicArn, opts.bucket),
      }),
    );
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queue.url,
        Attributes: { RedrivePolicy: redrive, Policy: queuePolicy(queue.arn, { topicArn }) },
      }),
    );
    // Subscribing twice with the same attributes returns the existing subscription.
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: "sqs", Endpoint: queue.arn }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: opts.bucket,
        NotificationConfiguration: {
          TopicConfigurations: [
            { Id: "twingate-sync-to-sns", TopicArn: topicArn, Events: ["s3:ObjectCreated:*"], ...filter },
          ],
        },
      }),
    );
  } else {
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queue.url,
        Attributes: { RedrivePolicy: redrive, Policy: queuePolicy(queue.arn, { bucket: opts.bucket }) },
      }),
    );
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: opts.bucket,
        NotificationConfiguration: {
          QueueConfigurations: [
            { Id: "twingate-sync-to-sqs", QueueArn: queue.arn, Events: ["s3:ObjectCreated:*"], ...filter },
          ],
        },
      }),
    );
  }
  return {
    bucket: opts.bucket,
    queueUrl: queue.url,
    queueArn: queue.arn,
    dlqUrl: dlq.url,
    dlqArn: dlq.arn,
    ...(topicArn ? { topicArn } : {}),
  };
}
