// LMTraining — optimizer state, LR schedule, the train loop, evaluation, chat templates,
// fine-tuning.
