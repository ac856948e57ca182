# Consumer side of Twingate's "Sync to S3": the bucket Twingate writes to, the queue its notifications
# land in (with a dead-letter queue), and the least-privilege role the worker runs with.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  bucket_arn  = "arn:${data.aws_partition.current.partition}:s3:::${var.bucket_name}"
  objects_arn = "${local.bucket_arn}/${var.key_prefix}*"
  kms_key_arn = var.kms_key_arn != null ? var.kms_key_arn : (var.create_kms_key ? aws_kms_key.bucket[0].arn : null)
  tags        = merge({ "app" = "twingate-ingest" }, var.tags)
}

# ---- bucket ---------------------------------------------------------------------------------------

resource "aws_s3_bucket" "sync" {
  count = var.create_bucket ? 1 : 0

  bucket = var.bucket_name
  tags   = local.tags
}

resource "aws_s3_bucket_public_access_block" "sync" {
  count = var.create_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.sync[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "sync" {
  count = var.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.sync[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_kms_key" "bucket" {
  count = var.kms_key_arn == null && var.create_kms_key ? 1 : 0

  description         = "SSE-KMS for the Twingate sync bucket ${var.bucket_name}"
  enable_key_rotation = true
  tags                = local.tags
}

resource "aws_s3_bucket_server_side_encryption_configuration" "sync" {
  count = var.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.sync[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.kms_key_arn != null ? "aws:kms" : "AES256"
      kms_master_key_id = local.kms_key_arn
    }
    bucket_key_enabled = local.kms_key_arn != null
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "sync" {
  count = var.create_bucket && var.raw_retention_days > 0 ? 1 : 0

  bucket = aws_s3_bucket.sync[0].id

  rule {
    id     = "expire-twingate-files"
    status = "Enabled"

    filter {
      prefix = var.key_prefix
    }

    expiration {
      days = var.raw_retention_days
    }
  }
}

# TLS only; and when the module creates Twingate's role, only that role may write.
resource "aws_s3_bucket_policy" "sync" {
  count = var.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.sync[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      }],
      var.create_twingate_oidc ? [{
        Sid       = "TwingateS3Sync"
        Effect    = "Allow"
        Principal = { AWS = aws_iam_role.twingate_sync[0].arn }
        Action    = ["s3:PutObject"]
        Resource  = ["${local.bucket_arn}/*"]
      }] : [],
    )
  })

  depends_on = [aws_s3_bucket_public_access_block.sync]
}

# ---- queue ----------------------------------------------------------------------------------------

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name}-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = local.tags
}

resource "aws_sqs_queue" "notifications" {
  name                       = var.name
  visibility_timeout_seconds = var.visibility_timeout_seconds
  message_retention_seconds  = var.message_retention_seconds
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true
  tags                       = local.tags

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
}

# Only the dead-letter queue's own source may redrive into it.
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.notifications.arn]
  })
}

# Only this bucket, in this account, may send to the queue.
resource "aws_sqs_queue_policy" "notifications" {
  queue_url = aws_sqs_queue.notifications.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AllowTwingateBucketNotifications"
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.notifications.arn
      Condition = {
        ArnEquals    = { "aws:SourceArn" = local.bucket_arn }
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
      }
    }]
  })
}

# Twingate writes each file with one PUT. This resource owns ALL of the bucket's notifications: on an
# existing bucket with other notifications, add this queue configuration to them instead.
resource "aws_s3_bucket_notification" "sync" {
  bucket = var.create_bucket ? aws_s3_bucket.sync[0].id : var.bucket_name

  queue {
    id            = "twingate-sync-to-sqs"
    queue_arn     = aws_sqs_queue.notifications.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = var.key_prefix != "" ? var.key_prefix : null
  }

  depends_on = [aws_sqs_queue_policy.notifications]
}
