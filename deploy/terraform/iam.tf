# ---- worker ---------------------------------------------------------------------------------------

# Least privilege for the worker (ECS task, Lambda, or any role it runs with): consume the queue, read
# Twingate's files (GetObject, GetObjectVersion on a versioned bucket; ListBucket for backfill), and decrypt them when the bucket uses SSE-KMS.
data "aws_iam_policy_document" "worker" {
  statement {
    sid = "ConsumeNotifications"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [aws_sqs_queue.notifications.arn]
  }

  # GetObjectVersion: on a versioned bucket the notification names the version written, and the worker reads
  # that one (GetObject with VersionId), not whatever the key holds by then (an overwrite).
  statement {
    sid       = "ReadTwingateFiles"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [local.objects_arn]
  }

  # Without a condition on s3:prefix, even with key_prefix set: S3 answers a GetObject of a missing key with
  # 404 only to a caller that may list the bucket, and that check carries no s3:prefix, so a condition on it
  # made a deleted file a 403 (retried into the DLQ) instead of a 404 (acknowledged). Listing shows key
  # names only; GetObject stays limited to the prefix.
  statement {
    sid       = "ListTwingateFiles"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
  }

  # SigV4 to an Amazon OpenSearch Service domain (OPENSEARCH_AWS_SIGV4=es): the HTTP verbs the worker sends
  # (_bulk, the template check and, with AUTO_SETUP, their install). The domain's access policy must allow
  # this role too (DEPLOY.md), and with fine-grained access control map it to a role (docs/SECURITY.md).
  dynamic "statement" {
    for_each = var.opensearch_domain_arn != "" ? [var.opensearch_domain_arn] : []
    content {
      sid       = "WriteOpenSearch"
      actions   = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut"]
      resources = [statement.value, "${statement.value}/*"]
    }
  }

  dynamic "statement" {
    for_each = local.kms_key_arn != null ? [local.kms_key_arn] : []
    content {
      sid       = "DecryptTwingateFiles"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_policy" "worker" {
  name        = "${var.name}-worker"
  description = "twingate-ingest worker: consume ${aws_sqs_queue.notifications.name}, read s3://${var.bucket_name}/${var.key_prefix}"
  policy      = data.aws_iam_policy_document.worker.json
  tags        = local.tags
}

data "aws_iam_policy_document" "worker_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = var.worker_role_services
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "worker" {
  count = var.create_worker_role ? 1 : 0

  name               = "${var.name}-worker"
  assume_role_policy = data.aws_iam_policy_document.worker_trust.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "worker" {
  count = var.create_worker_role ? 1 : 0

  role       = aws_iam_role.worker[0].name
  policy_arn = aws_iam_policy.worker.arn
}

# ---- backfill (history through the queue) -------------------------------------------------------

# For the role that runs `backfill` (an operator, a one-off task): list and read the files, and with
# `--enqueue` send one notification per file to the workers' queue. Only this policy has sqs:SendMessage:
# the worker never sends. With backfill_checkpoint_prefix, the checkpoint may live in the bucket too.
data "aws_iam_policy_document" "backfill" {
  statement {
    sid       = "EnqueueHistory"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.notifications.arn]
  }

  statement {
    sid       = "ReadTwingateFiles"
    actions   = ["s3:GetObject"]
    resources = [local.objects_arn]
  }

  statement {
    sid       = "ListTwingateFiles"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
  }

  dynamic "statement" {
    for_each = var.backfill_checkpoint_prefix != null ? [var.backfill_checkpoint_prefix] : []
    content {
      sid       = "BackfillCheckpoint"
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      resources = ["${local.bucket_arn}/${statement.value}*"]
    }
  }

  dynamic "statement" {
    for_each = local.kms_key_arn != null ? [local.kms_key_arn] : []
    content {
      sid       = "DecryptTwingateFiles"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_policy" "backfill" {
  name        = "${var.name}-backfill"
  description = "twingate-ingest backfill: read s3://${var.bucket_name}/${var.key_prefix}, send to ${aws_sqs_queue.notifications.name}"
  policy      = data.aws_iam_policy_document.backfill.json
  tags        = local.tags
}

# ---- Twingate's writer role (the vendor's OIDC option) -------------------------------------------

locals {
  twingate_oidc_host = var.twingate_network != null ? "${var.twingate_network}.twingate.com/oidc" : ""
  twingate_oidc_arn  = var.twingate_oidc_provider_arn != null ? var.twingate_oidc_provider_arn : try(aws_iam_openid_connect_provider.twingate[0].arn, null)
}

resource "aws_iam_openid_connect_provider" "twingate" {
  count = var.create_twingate_oidc && var.twingate_oidc_provider_arn == null ? 1 : 0

  url            = "https://${local.twingate_oidc_host}"
  client_id_list = [var.twingate_network]
  tags           = local.tags

  lifecycle {
    precondition {
      condition     = var.twingate_network != null
      error_message = "create_twingate_oidc needs twingate_network (the slug of <slug>.twingate.com)."
    }
  }
}

resource "aws_iam_role" "twingate_sync" {
  count = var.create_twingate_oidc ? 1 : 0

  name = "${var.name}-twingate-s3-sync"
  tags = local.tags

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = local.twingate_oidc_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.twingate_oidc_host}:aud" = var.twingate_network
          "${local.twingate_oidc_host}:sub" = "events_sync"
        }
      }
    }]
  })
}

# What Twingate needs: PutObject, and with SSE-KMS GenerateDataKey* and Decrypt on the key.
data "aws_iam_policy_document" "twingate_sync" {
  statement {
    sid       = "TwingateS3Sync"
    actions   = ["s3:PutObject"]
    resources = [local.objects_arn]
  }

  dynamic "statement" {
    for_each = local.kms_key_arn != null ? [local.kms_key_arn] : []
    content {
      sid       = "TwingateS3SyncKms"
      actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "twingate_sync" {
  count = var.create_twingate_oidc ? 1 : 0

  name   = "twingate-s3-sync"
  role   = aws_iam_role.twingate_sync[0].id
  policy = data.aws_iam_policy_document.twingate_sync.json
}
