# Two alarms that catch most outages: messages piling up (worker down, OpenSearch refusing) and
# messages in the dead-letter queue (files that failed max_receive_count times).

resource "aws_cloudwatch_metric_alarm" "queue_age" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-queue-age"
  alarm_description   = "Oldest Twingate notification waits more than ${var.max_message_age_seconds} s: the worker is down or behind."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.notifications.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.max_message_age_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-dlq-depth"
  alarm_description   = "Twingate notifications in the dead-letter queue: look at the worker's logs, fix, then redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = local.tags
}
