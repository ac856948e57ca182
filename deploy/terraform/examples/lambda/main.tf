# The worker as a Lambda function with an SQS event source. Build the package first:
#   npm ci && npm run build:lambda        # -> dist/lambda/twingate-ingest-lambda.zip
# then: terraform init && terraform apply -var bucket_name=... -var opensearch_url=...

terraform {
  required_version = ">= 1.12.2"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0.0, < 7.0.0"
    }
  }
}

variable "bucket_name" {
  type        = string
  description = "Bucket Twingate syncs to."
}

variable "opensearch_domain_arn" {
  type        = string
  description = "ARN of the Amazon OpenSearch Service domain (SigV4): the worker role gets es:ESHttp* on it; its access policy must allow the role too."
  default     = ""
}

variable "opensearch_url" {
  type        = string
  description = "OpenSearch endpoint, e.g. https://search-logs-xxxx.eu-west-1.es.amazonaws.com (SigV4-signed as the function's role)."
}

variable "twingate_network" {
  type        = string
  description = "Twingate network slug, for the OIDC role Twingate writes with."
}

variable "package" {
  type        = string
  description = "The zip built by npm run build:lambda."
  default     = "../../../../dist/lambda/twingate-ingest-lambda.zip"
}

variable "reserved_concurrency" {
  type        = number
  description = "Executions reserved for the function (-1: none, the default; any reservation must leave the account at least 100 unreserved, so an account at a new account's quota refuses every one)."
  default     = -1
}

variable "max_concurrency" {
  type        = number
  description = "Most concurrent invocations the event source starts (protects OpenSearch; 2-1000)."
  default     = 5
}

locals {
  function_timeout = 300
}

module "twingate_sync" {
  source = "../.."

  name                 = "twingate-ingest"
  bucket_name          = var.bucket_name
  create_kms_key       = true
  worker_role_services = ["lambda.amazonaws.com"]
  create_twingate_oidc = true
  twingate_network     = var.twingate_network
  # es:ESHttp* for SigV4 (OPENSEARCH_AWS_SIGV4 below)
  opensearch_domain_arn = var.opensearch_domain_arn
  # AWS: at least the function timeout; 6 times leaves room for the event source's retries.
  visibility_timeout_seconds = 6 * local.function_timeout
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = module.twingate_sync.worker_role_name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_cloudwatch_log_group" "worker" {
  name              = "/aws/lambda/twingate-ingest"
  retention_in_days = 30
}

resource "aws_lambda_function" "worker" {
  function_name    = "twingate-ingest"
  role             = module.twingate_sync.worker_role_arn
  filename         = var.package
  source_code_hash = filebase64sha256(var.package)
  handler          = "index.handler"
  runtime          = "nodejs24.x"
  architectures    = ["arm64"]
  memory_size      = 1024
  timeout          = local.function_timeout

  # Unreserved by default: AWS refuses a reservation that leaves the account fewer than 100 unreserved
  # executions, which is every reservation in an account at a new account's quota (10). The event source's
  # maximum_concurrency (below) is what bounds the load on OpenSearch.
  reserved_concurrent_executions = var.reserved_concurrency

  environment {
    variables = merge(module.twingate_sync.worker_environment, {
      OPENSEARCH_URL       = var.opensearch_url
      OPENSEARCH_AWS_SIGV4 = "es"
      OBJECT_CONCURRENCY   = "4"
      LOG_LEVEL            = "info"
      NODE_OPTIONS         = "--enable-source-maps"
    })
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.worker.name
  }

  depends_on = [aws_iam_role_policy_attachment.logs]
}

resource "aws_lambda_event_source_mapping" "notifications" {
  event_source_arn                   = module.twingate_sync.queue_arn
  function_name                      = aws_lambda_function.worker.arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = 5
  # The handler returns {batchItemFailures}: only the messages that failed come back.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.max_concurrency
  }
}

output "twingate_role_arn" {
  description = "Enter in Twingate's Admin Console with the bucket name."
  value       = module.twingate_sync.twingate_role_arn
}

output "queue_url" {
  description = "For twingate-ingest doctor --queue-url."
  value       = module.twingate_sync.queue_url
}
