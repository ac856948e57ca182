output "bucket_name" {
  description = "Bucket name to enter in Twingate's Admin Console (Settings → Reports → Sync to S3 Bucket), without arn:aws:s3:::."
  value       = var.bucket_name
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = local.bucket_arn
}

output "kms_key_arn" {
  description = "KMS key of the bucket's SSE-KMS encryption (null: SSE-S3)."
  value       = local.kms_key_arn
}

output "queue_url" {
  description = "URL of the notification queue: the worker's SQS_QUEUE_URL."
  value       = aws_sqs_queue.notifications.id
}

output "queue_arn" {
  description = "ARN of the notification queue (the Lambda event source)."
  value       = aws_sqs_queue.notifications.arn
}

output "queue_name" {
  description = "Name of the notification queue (CloudWatch dimension QueueName)."
  value       = aws_sqs_queue.notifications.name
}

output "dlq_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dlq.id
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "worker_policy_arn" {
  description = "Least-privilege policy for the worker; attach it to your own role when create_worker_role = false."
  value       = aws_iam_policy.worker.arn
}

output "backfill_policy_arn" {
  description = "Policy for the role that runs backfill (read the files; with --enqueue, sqs:SendMessage to the queue); the worker does not need it."
  value       = aws_iam_policy.backfill.arn
}

output "worker_role_arn" {
  description = "Role for the worker (ECS task role or Lambda execution role); null when create_worker_role = false."
  value       = try(aws_iam_role.worker[0].arn, null)
}

output "worker_role_name" {
  description = "Name of the worker role, to attach more policies (logs, VPC access); null when create_worker_role = false."
  value       = try(aws_iam_role.worker[0].name, null)
}

output "twingate_role_arn" {
  description = "Role ARN to enter in Twingate's Admin Console (OIDC option); null unless create_twingate_oidc."
  value       = try(aws_iam_role.twingate_sync[0].arn, null)
}

output "worker_environment" {
  description = "Environment for the worker (merge with OPENSEARCH_URL and its auth)."
  value = {
    SQS_QUEUE_URL    = aws_sqs_queue.notifications.id
    AWS_REGION       = data.aws_region.current.region
    BUCKET_ALLOWLIST = var.bucket_name
    KEY_PREFIX       = var.key_prefix
  }
}
