/**
 * `redrive`: return the dead-letter queue's messages to the queue the worker reads, once the cause is fixed.
 *
 * SQS's own StartMessageMoveTask needs the DLQ's ARN and an IAM permission the worker's role does not have,
 * and moto (the test stack) implements it only partly; this moves messages itself with calls every role that
 * may read the DLQ has: ReceiveMessage on the DLQ, SendMessage to the queue (body and message attributes
 * kept), then DeleteMessage on the DLQ, in that order, so a crash between the two leaves a copy in both
 * (harmless: the worker's ids make a second ingestion a no-op), never in neither. It stops when it has moved
 * as many messages as the DLQ held at the start (or --max), so messages that fail again are not cycled.
 */
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";

interface RedriveOptions {
  queueUrl: string;
  /** The dead-letter queue; default: the queue's RedrivePolicy target. */
  dlqUrl?: string;
  dryRun: boolean;
  /** Messages to move at most (default: the DLQ's depth at the start). */
  max?: number;
  /** How long a received message stays hidden while it is moved (seconds). */
  visibilityTimeout?: number;
}

interface RedriveSummary {
  queueUrl: string;
  dlqUrl: string;
  dryRun: boolean;
  /** ApproximateNumberOfMessages of the DLQ at the start. */
  dlqDepth: number;
  /** Age of the oldest message seen in the DLQ (seconds since it was first sent), when any was seen. */
  oldestAgeSeconds?: number;
  moved: number;
  failed: number;
  errors: string[];
}

/** The dead-letter queue's URL from the queue's RedrivePolicy. */
async function dlqUrlOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const res = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["RedrivePolicy"] }),
  );
  const raw = res.Attributes?.["RedrivePolicy"];
  if (!raw)
    throw new Error(`the queue ${queueUrl} has no RedrivePolicy (no dead-letter queue): pass --dlq-url`);
  const arn = (JSON.parse(raw) as { deadLetterTargetArn?: string }).deadLetterTargetArn ?? "";
  const parts = arn.split(":");
  if (parts.length < 6 || parts[2] !== "sqs")
    throw new Error(`the redrive target ${arn} is not an SQS queue ARN`);
  const out = await sqs.send(
    new GetQueueUrlCommand({
      QueueName: parts[5]!,
      ...(parts[4] ? { QueueOwnerAWSAccountId: parts[4] } : {}),
    }),
  );
  if (!out.QueueUrl) throw new Error(`no URL for the dead-letter queue ${arn}`);
  return out.QueueUrl;
}

async function depth(sqs: SQSClient, url: string): Promise<number> {
  const res = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }),
  );
  return Number(res.Attributes?.["ApproximateNumberOfMessages"] ?? 0);
}

/** Message attributes as SendMessage takes them (string and binary values only, as SQS allows). */
function attributesOf(m: Message): Record<string, MessageAttributeValue> | undefined {
  const a = m.MessageAttributes;
  if (!a || Object.keys(a).length === 0) return undefined;
  const out: Record<string, MessageAttributeValue> = {};
  for (const [k, v] of Object.entries(a)) {
    const value: MessageAttributeValue = { DataType: v.DataType };
    if (v.StringValue !== undefined) value.StringValue = v.StringValue;
    if (v.BinaryValue !== undefined) value.BinaryValue = v.BinaryValue;
    out[k] = value;
  }
  return out;
}

/**
 * Move (or with dryRun, count and peek at) the DLQ's messages. A dry run receives with a visibility of 0,
 * so the messages stay where they are, visible.
 */
export async function redrive(
  sqs: SQSClient,
  opts: RedriveOptions,
  onMoved?: (m: Message) => void,
): Promise<RedriveSummary> {
  const dlqUrl = opts.dlqUrl ?? (await dlqUrlOf(sqs, opts.queueUrl));
  const dlqDepth = await depth(sqs, dlqUrl);
  const summary: RedriveSummary = {
    queueUrl: opts.queueUrl,
    dlqUrl,
    dryRun: opts.dryRun,
    dlqDepth,
    moved: 0,
    failed: 0,
    errors: [],
  };
  const limit = opts.max ?? dlqDepth;
  const fifo = opts.queueUrl.endsWith(".fifo");
  const seen = new Set<string>();
  let oldest = Number.POSITIVE_INFINITY;
  let empty = 0;
  while (summary.moved + summary.failed < limit && empty < 2) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: Math.min(10, limit - summary.moved - summary.failed),
        WaitTimeSeconds: 1,
        VisibilityTimeout: opts.dryRun ? 0 : (opts.visibilityTimeout ?? 60),
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["SentTimestamp", "MessageGroupId", "ApproximateReceiveCount"],
      }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    let fresh = 0;
    for (const m of messages) {
      const sent = Number(m.Attributes?.["SentTimestamp"]);
      if (Number.isFinite(sent)) oldest = Math.min(oldest, sent);
      if (opts.dryRun) {
        if (!seen.has(m.MessageId ?? "")) {
          seen.add(m.MessageId ?? "");
          fresh++;
          summary.moved++; // counted as "would move"
        }
        continue;
      }
      try {
        const attributes = attributesOf(m);
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: opts.queueUrl,
            MessageBody: m.Body ?? "",
            ...(attributes ? { MessageAttributes: attributes } : {}),
            ...(fifo
              ? {
                  MessageGroupId: m.Attributes?.["MessageGroupId"] ?? "redrive",
                  MessageDeduplicationId: m.MessageId ?? String(Date.now()),
                }
              : {}),
          }),
        );
        // Only once the copy is on the queue: a failure here leaves it in both, never in neither.
        await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: m.ReceiptHandle! }));
        summary.moved++;
        onMoved?.(m);
      } catch (err) {
        summary.failed++;
        if (summary.errors.length < 10) summary.errors.push(err instanceof Error ? err.message : String(err));
      }
    }
    // A dry run sees the same messages again once it has seen them all.
    if (opts.dryRun && fresh === 0) break;
  }
  if (Number.isFinite(oldest))
    summary.oldestAgeSeconds = Math.max(0, Math.round((Date.now() - oldest) / 1000));
  return summary;
}
