# The worker as a long-running ECS Fargate service (the container image from this repository's
# Dockerfile, command "worker"). terraform init && terraform apply -var ...

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

variable "image" {
  type        = string
  description = "Worker image, e.g. <account>.dkr.ecr.<region>.amazonaws.com/twingate-ingest:0.1.0."
}

variable "opensearch_domain_arn" {
  type        = string
  description = "ARN of the Amazon OpenSearch Service domain (SigV4): the worker role gets es:ESHttp* on it; its access policy must allow the role too."
  default     = ""
}

variable "opensearch_url" {
  type        = string
  description = "OpenSearch endpoint (SigV4-signed as the task role)."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets with a route to SQS, S3 and OpenSearch (NAT or VPC endpoints)."
}

variable "security_group_ids" {
  type        = list(string)
  description = "Security groups of the tasks (egress 443 to AWS and OpenSearch)."
}

variable "desired_count" {
  type        = number
  description = "Worker tasks. Each polls the queue; 2 for availability, more for throughput."
  default     = 2
}

variable "twingate_network" {
  type        = string
  description = "Twingate network slug, for the OIDC role Twingate writes with."
}

data "aws_region" "current" {}

module "twingate_sync" {
  source = "../.."

  name                 = "twingate-ingest"
  bucket_name          = var.bucket_name
  create_kms_key       = true
  worker_role_services = ["ecs-tasks.amazonaws.com"]
  create_twingate_oidc = true
  twingate_network     = var.twingate_network
  # es:ESHttp* for SigV4 (OPENSEARCH_AWS_SIGV4 below)
  opensearch_domain_arn = var.opensearch_domain_arn
}

# Where the image is pushed. The tasks run on ARM64 (runtime_platform below), so build for it (or for both):
#   aws ecr get-login-password | docker login --username AWS --password-stdin <account>.dkr.ecr.<region>.amazonaws.com
#   docker buildx build --platform linux/arm64,linux/amd64 -t "$(terraform output -raw repository_url):0.1.0" --push .
# then -var image=<repository_url>:0.1.0 (DEPLOY.md, step 4).
resource "aws_ecr_repository" "worker" {
  name                 = "twingate-ingest"
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }
}

output "repository_url" {
  description = "ECR repository to push the worker image to (docker buildx build --platform linux/arm64,linux/amd64 --push)."
  value       = aws_ecr_repository.worker.repository_url
}

resource "aws_ecs_cluster" "this" {
  name = "twingate-ingest"
}

resource "aws_cloudwatch_log_group" "worker" {
  name              = "/ecs/twingate-ingest"
  retention_in_days = 30
}

data "aws_iam_policy_document" "execution_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# Pulls the image and writes logs; the task role (module.twingate_sync) is what the worker uses.
resource "aws_iam_role" "execution" {
  name               = "twingate-ingest-execution"
  assume_role_policy = data.aws_iam_policy_document.execution_trust.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_ecs_task_definition" "worker" {
  family                   = "twingate-ingest"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  task_role_arn            = module.twingate_sync.worker_role_arn
  execution_role_arn       = aws_iam_role.execution.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "ARM64"
  }

  container_definitions = jsonencode([{
    name      = "worker"
    image     = var.image
    command   = ["worker"]
    essential = true
    # SIGTERM, then up to stopTimeout seconds to finish in-flight files (SHUTDOWN_TIMEOUT_MS below it).
    stopTimeout = 60
    environment = [for k, v in merge(module.twingate_sync.worker_environment, {
      OPENSEARCH_URL       = var.opensearch_url
      OPENSEARCH_AWS_SIGV4 = "es"
      SHUTDOWN_TIMEOUT_MS  = "45000"
      METRICS_HOST         = "0.0.0.0"
      METRICS_PORT         = "9464"
    }) : { name = k, value = v }]
    portMappings = [{ containerPort = 9464, protocol = "tcp" }]
    healthCheck = {
      command     = ["CMD", "node", "-e", "fetch('http://127.0.0.1:9464/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.worker.name
        awslogs-region        = data.aws_region.current.region
        awslogs-stream-prefix = "worker"
      }
    }
  }])
}

resource "aws_ecs_service" "worker" {
  name            = "twingate-ingest"
  cluster         = aws_ecs_cluster.this.id
  task_definition = aws_ecs_task_definition.worker.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"

  # Rolling upgrade: start the new task before stopping an old one; messages in flight on a stopped
  # task become visible again after the visibility timeout and are picked up by the others.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = false
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
